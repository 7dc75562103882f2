namespace Ghostie.Sync.Handoff;

/// <summary>A section of the rebuilt context.</summary>
/// <param name="Name">The section (see <see cref="ContextSections"/>).</param>
/// <param name="Text">Its text, header included.</param>
/// <param name="Tokens">Its tokens.</param>
/// <param name="Included">Items included.</param>
/// <param name="Omitted">Items left out for the budget.</param>
/// <param name="Budget">The most tokens the section could take: its share of the profile's budget
/// (<see cref="ContextSections.Shares"/>) plus what the sections before it left unused.</param>
public sealed record RebuiltSection(string Name, string Text, int Tokens, int Included, int Omitted, int Budget = 0);
