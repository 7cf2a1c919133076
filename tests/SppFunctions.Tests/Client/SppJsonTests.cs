using System.Text.Json;
using Spp.Client.Models;
using Spp.Client.Serialization;

namespace SppFunctions.Tests.Client;

public class SppJsonTests
{
    [Theory]
    [InlineData("\"2021-09-01T00:00:00+00:00\"", "2021-09-01T00:00:00+00:00")]
    [InlineData("\"2021-01-01T00:00:00+00\"", "2021-01-01T00:00:00+00:00")]
    [InlineData("\"2024-01-01 15:00:00\"", "2024-01-01T15:00:00+00:00")]
    [InlineData("\"2021-08-26T14:55:23.000000Z\"", "2021-08-26T14:55:23+00:00")]
    [InlineData("\"2010-12-30T15:00:00+0000\"", "2010-12-30T15:00:00+00:00")]
    [InlineData("\"2010-12-30T15:00:00-0530\"", "2010-12-30T15:00:00-05:30")]
    [InlineData("1558608668", "2019-05-23T10:51:08+00:00")]
    public void Reads_every_date_format_SPP_sends(string json, string expected)
    {
        var order = JsonSerializer.Deserialize<SppOrder>($"{{\"id\":1,\"created_at\":{json}}}", SppJson.Options)!;
        Assert.Equal(DateTimeOffset.Parse(expected), order.CreatedAt);
        Assert.Equal(DateTimeOffset.Parse(expected).Offset, order.CreatedAt!.Value.Offset);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("\"\"")]
    public void Reads_missing_dates_as_null(string json)
    {
        var order = JsonSerializer.Deserialize<SppOrder>($"{{\"id\":1,\"date_completed\":{json}}}", SppJson.Options)!;
        Assert.Null(order.DateCompleted);
    }

    [Fact]
    public void Rejects_a_date_that_is_not_one()
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<SppOrder>("{\"id\":1,\"created_at\":\"next tuesday\"}", SppJson.Options));
    }

    [Fact]
    public void Reads_ids_as_numbers_or_strings()
    {
        var api = JsonSerializer.Deserialize<SppOrder>("{\"id\":42,\"user_id\":\"7\"}", SppJson.Options)!;
        var webhook = JsonSerializer.Deserialize<SppOrder>("{\"id\":\"666AF315\",\"user_id\":7}", SppJson.Options)!;
        Assert.Equal("42", api.Id);
        Assert.Equal(7, api.UserId);
        Assert.Equal("666AF315", webhook.Id);
        Assert.Equal(7, webhook.UserId);
    }

    [Fact]
    public void Reads_money_from_numbers_and_strings()
    {
        var invoice = JsonSerializer.Deserialize<SppInvoice>(
            "{\"id\":1,\"total\":\"10.00\",\"subtotal\":10,\"items\":[{\"amount\":\"1,250.50\",\"total\":\"\"}]}", SppJson.Options)!;
        Assert.Equal(10.00m, invoice.Total);
        Assert.Equal(10m, invoice.Subtotal);
        Assert.Equal(1250.50m, invoice.Items![0].Amount);
        Assert.Null(invoice.Items[0].Total);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("1", true)]
    [InlineData("\"1\"", true)]
    [InlineData("false", false)]
    [InlineData("0", false)]
    [InlineData("\"0\"", false)]
    public void Reads_booleans_leniently(string json, bool expected)
    {
        var message = JsonSerializer.Deserialize<SppMessage>($"{{\"id\":1,\"staff_only\":{json}}}", SppJson.Options)!;
        Assert.Equal(expected, message.StaffOnly);
    }

    [Fact]
    public void Reads_empty_php_arrays_as_empty_objects_and_keeps_objects()
    {
        var order = JsonSerializer.Deserialize<SppOrder>("{\"id\":1,\"metadata\":[],\"form_data\":{\"Brief\":\"A fox\"}}", SppJson.Options)!;
        Assert.NotNull(order.Metadata);
        Assert.Empty(order.Metadata!);
        Assert.Equal("A fox", order.FormData!["Brief"]!.GetValue<string>());
    }

    [Fact]
    public void Keeps_unknown_fields()
    {
        var order = JsonSerializer.Deserialize<SppOrder>("{\"id\":1,\"brand_new_field\":{\"x\":1},\"status\":\"Working\"}", SppJson.Options)!;
        Assert.Equal("Working", order.Status);
        Assert.Equal(1, order.AdditionalProperties["brand_new_field"].GetProperty("x").GetInt32());
    }

    [Fact]
    public void Writes_snake_case_and_leaves_out_nulls()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(
            JsonSerializer.Serialize(new SppNewMessage { Message = "<p>Hi</p>", StaffOnly = true }, SppJson.Options))!.AsObject();
        Assert.Equal("<p>Hi</p>", json["message"]!.GetValue<string>());
        Assert.True(json["staff_only"]!.GetValue<bool>());
        Assert.False(json.ContainsKey("user_id"));
        Assert.Equal(2, json.Count);
    }
}
