using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace SppFunctions.Infra.Tests.Infrastructure;

/// <summary>
/// Evaluates the few ARM template functions left in evaluated outputs (format, concat, createObject, string
/// literals), with <c>reference(id, version).a.b</c> replaced by a given value. Anything else is refused.
/// </summary>
public sealed class ArmExpression
{
    private readonly string _text;
    private readonly Func<string, string, string> _reference;
    private int _position;

    private ArmExpression(string text, Func<string, string, string> reference)
    {
        _text = text;
        _reference = reference;
    }

    /// <summary>Evaluates "[...]" (or returns a plain string as it is).</summary>
    public static JsonNode? Evaluate(string expression, Func<string, string, string> reference)
    {
        if (!expression.StartsWith('[') || expression.StartsWith("[[", StringComparison.Ordinal)) return JsonValue.Create(expression);
        var parser = new ArmExpression(expression[1..^1], reference);
        var value = parser.Value();
        parser.Skip();
        if (parser._position != parser._text.Length) throw parser.Error("unexpected text");
        return value;
    }

    private JsonNode? Value()
    {
        Skip();
        if (Peek() == '\'') return JsonValue.Create(StringLiteral());
        if (char.IsAsciiDigit(Peek()) || Peek() == '-') return JsonValue.Create(Number());
        var name = Identifier();
        var arguments = Arguments();
        JsonNode? result;
        switch (name.ToLowerInvariant())
        {
            case "format":
                var format = Text(arguments[0]);
                result = JsonValue.Create(
                    string.Format(CultureInfo.InvariantCulture, format, arguments.Skip(1).Select(a => (object)Text(a)).ToArray()));
                break;
            case "concat":
                result = JsonValue.Create(string.Concat(arguments.Select(Text)));
                break;
            case "createobject":
                var obj = new JsonObject();
                for (var i = 0; i + 1 < arguments.Count; i += 2) obj[Text(arguments[i])] = arguments[i + 1]?.DeepClone();
                result = obj;
                break;
            case "reference":
                var path = new List<string>();
                while (Peek() == '.') { _position++; path.Add(Identifier()); }
                if (path.Count == 0) throw Error("property of reference() expected");
                result = JsonValue.Create(_reference(Text(arguments[0]), string.Join('.', path)));
                break;
            default:
                throw Error($"function {name}() is not supported by this test evaluator");
        }
        return result;
    }

    private List<JsonNode?> Arguments()
    {
        Expect('(');
        var arguments = new List<JsonNode?>();
        Skip();
        if (Peek() == ')') { _position++; return arguments; }
        while (true)
        {
            arguments.Add(Value());
            Skip();
            if (Peek() == ',') { _position++; continue; }
            Expect(')');
            return arguments;
        }
    }

    private string StringLiteral()
    {
        Expect('\'');
        var text = new StringBuilder();
        while (true)
        {
            if (_position >= _text.Length) throw Error("unterminated string");
            var c = _text[_position++];
            if (c != '\'') { text.Append(c); continue; }
            if (Peek() == '\'') { text.Append('\''); _position++; continue; }
            return text.ToString();
        }
    }

    private long Number()
    {
        var start = _position;
        if (Peek() == '-') _position++;
        while (char.IsAsciiDigit(Peek())) _position++;
        return long.Parse(_text.AsSpan(start, _position - start), CultureInfo.InvariantCulture);
    }

    private string Identifier()
    {
        Skip();
        var start = _position;
        while (char.IsAsciiLetterOrDigit(Peek()) || Peek() == '_') _position++;
        if (start == _position) throw Error("identifier expected");
        return _text[start.._position];
    }

    private static string Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString() ?? "";

    private void Expect(char c)
    {
        Skip();
        if (Peek() != c) throw Error($"'{c}' expected");
        _position++;
    }

    private void Skip()
    {
        while (_position < _text.Length && char.IsWhiteSpace(_text[_position])) _position++;
    }

    private char Peek() => _position < _text.Length ? _text[_position] : '\0';

    private FormatException Error(string message) => new($"{message} at {_position} in [{_text}]");
}
