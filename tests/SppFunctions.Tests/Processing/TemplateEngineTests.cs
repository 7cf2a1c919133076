using System.Text.Json.Nodes;
using SppFunctions.Processing.Templates;

namespace SppFunctions.Tests.Processing;

/// <summary>Liquid templates over an event: values, escaping, and missing values as errors.</summary>
public class TemplateEngineTests
{
    private static readonly JsonObject Scope = JsonNode.Parse("""
        { "id": "1764403200-abc", "event": "order.created", "data": {
            "id": "666AF315", "client": { "name": "Jane <Doe>", "id": 12 }, "tags": ["vip", "rush"], "note": null, "total": 99.5 } }
        """)!.AsObject();

    private static string Render(string source, TemplateEncoding encoding = TemplateEncoding.None)
    {
        Assert.True(new TemplateEngine().TryParse(source, out var template, out var error), error);
        return template.Render(Scope, encoding);
    }

    [Theory]
    [InlineData("Order {{ data.id }}", "Order 666AF315")]
    [InlineData("{{ event }} / {{ id }}", "order.created / 1764403200-abc")]
    [InlineData("{{ data.tags[1] }} {{ data.tags | join: ',' }} {{ data.tags.size }}", "rush vip,rush 2")]
    [InlineData("{{ data.client.id | plus: 1 }}", "13")]
    [InlineData("{% if data.total > 50 %}big{% endif %}", "big")]
    [InlineData("{{ data.note | default: 'none' }} {{ data.missing | default: 'x' }}", "none x")]
    [InlineData("{{ data.client }}", """{"name":"Jane <Doe>","id":12}""")]
    [InlineData("no markup at all", "no markup at all")]
    [InlineData("{% if data.coupon %}has {{ data.coupon }}{% else %}none{% endif %}", "none")]
    [InlineData("{% unless data.note %}no note{% endunless %}", "no note")]
    [InlineData("{% if data.note == nil %}nil{% endif %}", "nil")]
    [InlineData("{{ data.note | default: '' | upcase }}x", "x")]
    public void Renders_values_from_the_event(string source, string expected) => Assert.Equal(expected, Render(source));

    [Fact]
    public void Escapes_values_for_html_and_for_url_segments_but_not_the_template_text()
    {
        Assert.Equal("<p>Hi Jane &lt;Doe&gt;</p>", Render("<p>Hi {{ data.client.name }}</p>", TemplateEncoding.Html));
        Assert.Equal("orders/Jane%20%3CDoe%3E", Render("orders/{{ data.client.name }}", TemplateEncoding.UrlSegment));
    }

    [Theory]
    [InlineData("{{ data.date_due }}", "data.date_due")]
    [InlineData("{{ data.note }}", "data.note")]
    [InlineData("{{ data.client.address.city }}", "data.client.address")]
    [InlineData("{{ nope }}", "nope")]
    [InlineData("{{ data.note | upcase }}", "data.note")]
    [InlineData("{% if data.client %}{{ data.coupon }}{% endif %}", "data.coupon")]
    public void A_missing_or_null_value_is_an_error_naming_it(string source, string path)
    {
        var ex = Assert.Throws<TemplateValueMissingException>(() => Render(source));
        Assert.Contains(path, ex.Paths);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void A_syntax_error_is_reported_at_parse_time()
    {
        Assert.False(new TemplateEngine().TryParse("{{ data.id ", out _, out var error));
        Assert.Contains("'}}'", error);
    }
}
