namespace Ghostie.Cli.Tests;

/// <summary>The estimator behind the weak-passphrase checks (linked from samples/Ghostie.Cli/PassphraseStrength.cs).</summary>
public sealed class PassphraseStrengthTests
{
    [Theory]
    [InlineData("a", "short")]
    [InlineData("password", "common password")]
    [InlineData("P@ssw0rd", "common password")]
    [InlineData("drowssap", "common password")]
    [InlineData("qwertyuiop", "keyboard")]
    [InlineData("1qaz2wsx3edc", "keyboard")]
    [InlineData("abcdefghijklmnop", "sequence")]
    [InlineData("9876543210", "sequence")]
    [InlineData("aaaaaaaaaaaaaaaaaaaa", "repeat")]
    [InlineData("hellohellohellohello", "repeat")]
    [InlineData("correct horse battery staple", "common password")]
    [InlineData("Dragon1990", "common password")]
    public void Estimate_WeakPassphrase_IsBelowTheFloorAndSaysWhy(string passphrase, string reason)
    {
        PassphraseEstimate estimate = PassphraseStrength.Estimate(passphrase);

        Assert.True(estimate.Bits < PassphraseStrength.FloorBits, $"'{passphrase}': {estimate.Bits:0.0} bits");
        Assert.Contains(reason, estimate.Weakness, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("violet anchor drizzle tundra 42")]
    [InlineData("k9#Tq2!vLx8&mZ4p")]
    [InlineData("ped3-ryk5-ajxo-lwml-cqsu-fqx6-feod-xkbz")]
    [InlineData("mein Hund frisst gern Käsekuchen")]
    public void Estimate_StrongPassphrase_ReachesTheGoodLevel(string passphrase)
    {
        PassphraseEstimate estimate = PassphraseStrength.Estimate(passphrase);

        Assert.True(estimate.Bits >= PassphraseStrength.GoodBits, $"'{passphrase}': {estimate.Bits:0.0} bits ({estimate.Weakness})");
    }

    [Fact]
    public void Estimate_MiddlingPassphrase_IsBetweenTheFloorAndTheGoodLevel()
    {
        PassphraseEstimate estimate = PassphraseStrength.Estimate("xkqzvbtwmj");

        Assert.InRange(estimate.Bits, PassphraseStrength.FloorBits, PassphraseStrength.GoodBits - 0.001);
    }

    [Fact]
    public void Estimate_LongPassphrase_IsJudgedOnItsFirstCharactersOnly_NeverOverrated()
    {
        Assert.True(PassphraseStrength.Estimate(new string('a', 300)).Bits < PassphraseStrength.FloorBits);
        Assert.True(PassphraseStrength.Estimate(string.Concat(Enumerable.Repeat("qwerty", 40))).Bits < PassphraseStrength.FloorBits);
        string random = string.Concat(Enumerable.Range(0, 200).Select(i => (char)('a' + ((i * 7919) % 26))));
        Assert.True(PassphraseStrength.Estimate(random).Bits >= PassphraseStrength.GoodBits);
    }

    [Fact]
    public void Estimate_AddingACommonWordToAStrongPassphrase_NeverLowersIt()
    {
        double strong = PassphraseStrength.Estimate("k9#Tq2!vLx8&mZ4p").Bits;

        Assert.True(PassphraseStrength.Estimate("k9#Tq2!vLx8&mZ4ppassword").Bits >= strong);
    }
}
