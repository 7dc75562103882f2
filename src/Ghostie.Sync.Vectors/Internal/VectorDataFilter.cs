using System.Linq.Expressions;
using Microsoft.Extensions.VectorData.ProviderServices;
using Microsoft.Extensions.VectorData.ProviderServices.Filter;

namespace Ghostie.Sync.Vectors.Internal;

/// <summary>Translates a <c>VectorSearchOptions&lt;TRecord&gt;.Filter</c> expression into the equality filter Ghostie
/// stores run (<see cref="VectorSearchOptions.Filter"/>): data properties compared with <c>==</c> to a value, bool data
/// properties (<c>r.IsPinned</c>, <c>!r.IsPinned</c>), and <c>&amp;&amp;</c> of those. Anything else is a
/// <see cref="NotSupportedException"/> naming the expression, never a filter silently ignored.</summary>
internal sealed class VectorDataFilter : FilterTranslatorBase
{
    private readonly Dictionary<string, string> _pairs = new(StringComparer.Ordinal);
    private bool _matchesNothing;

    /// <summary>The translated filter, or null when it can match no record (two different values required of one property, or <c>false</c>).</summary>
    internal static IReadOnlyDictionary<string, string>? Translate(LambdaExpression filter, CollectionModel model, out bool matchesNothing)
    {
        var translator = new VectorDataFilter();
        Expression body = translator.PreprocessFilter(filter, model, new FilterPreprocessingOptions { SupportsParameterization = false });
        translator.Visit(body);
        matchesNothing = translator._matchesNothing;
        return translator._pairs.Count == 0 ? null : translator._pairs;
    }

    private void Visit(Expression node)
    {
        switch (node)
        {
            case BinaryExpression { NodeType: ExpressionType.AndAlso } and:
                Visit(and.Left);
                Visit(and.Right);
                return;

            case BinaryExpression { NodeType: ExpressionType.Equal } equal:
                if (TryBindData(equal.Left, out DataPropertyModel? property) && TryGetConstant(equal.Right, out object? value)
                    || TryBindData(equal.Right, out property) && TryGetConstant(equal.Left, out value))
                {
                    if (value is null)
                    {
                        throw Unsupported(node, $"comparing '{property!.ModelName}' with null (a null data value is not stored, so absence cannot be matched)");
                    }

                    Require(property!, VectorDataValues.FormatAs(value, property!.Type));
                    return;
                }

                throw Unsupported(node, "an equality must compare one data property with a value");

            case UnaryExpression { NodeType: ExpressionType.Not } not when TryBindData(not.Operand, out DataPropertyModel? flag) && IsBool(flag!):
                Require(flag!, "false");
                return;

            case ConstantExpression { Value: bool constant }:
                _matchesNothing |= !constant;
                return;

            default:
                if (TryBindData(node, out DataPropertyModel? boolean) && IsBool(boolean!))
                {
                    Require(boolean!, "true");
                    return;
                }

                throw Unsupported(node, node.NodeType switch
                {
                    ExpressionType.OrElse or ExpressionType.Or => "'||' (use one search per alternative)",
                    ExpressionType.NotEqual => "'!=' (only '==' is supported)",
                    ExpressionType.LessThan or ExpressionType.LessThanOrEqual or ExpressionType.GreaterThan or ExpressionType.GreaterThanOrEqual => "range comparisons (only '==' is supported)",
                    ExpressionType.Call => "method calls such as Contains (only '==' is supported)",
                    _ => $"{node.NodeType} expressions",
                });
        }
    }

    private void Require(DataPropertyModel property, string value)
    {
        if (_pairs.TryGetValue(property.StorageName, out string? existing) && !string.Equals(existing, value, StringComparison.Ordinal))
        {
            _matchesNothing = true;
            return;
        }

        _pairs[property.StorageName] = value;
    }

    private static bool IsBool(DataPropertyModel property) => (Nullable.GetUnderlyingType(property.Type) ?? property.Type) == typeof(bool);

    private bool TryBindData(Expression expression, out DataPropertyModel? property)
    {
        while (expression is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert)
        {
            expression = convert.Operand;
        }

        if (TryBindProperty(expression, out PropertyModel? bound))
        {
            if (bound is KeyPropertyModel)
            {
                throw Unsupported(expression, $"filtering on the key property '{bound.ModelName}' (use GetAsync(key) to read one record)");
            }

            if (bound is VectorPropertyModel)
            {
                throw Unsupported(expression, $"filtering on the vector property '{bound.ModelName}'");
            }

            property = bound as DataPropertyModel;
            return property is not null;
        }

        property = null;
        return false;
    }

    private static bool TryGetConstant(Expression expression, out object? value)
    {
        while (expression is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert)
        {
            expression = convert.Operand;
        }

        if (expression is ConstantExpression constant)
        {
            value = constant.Value;
            return true;
        }

        value = null;
        return false;
    }

    private static NotSupportedException Unsupported(Expression node, string what) =>
        new($"The vector search filter expression '{node}' is not supported by Ghostie vector stores: {what}. Filters support '==' between a data property and a value, bool data properties, and '&&'.");
}
