namespace Ghostie.Sync;

/// <summary>
/// Setup was given backend settings that disagree with the backend registered under dependency injection: saving them
/// would send every later open (the CLI, another host) to other storage than the one this setup writes to. Nothing was
/// created or written. Its <see cref="GhostieSyncException.Code"/> is <see cref="GhostieErrorCode.InvalidArgument"/>.
/// </summary>
public sealed class BackendSettingsMismatchException : GhostieSyncException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="setting">"backend", or the name of the setting that differs.</param>
    /// <param name="saved">The value setup was asked to save (null: not given).</param>
    /// <param name="registered">The registered backend's value (null: it has no such setting).</param>
    public BackendSettingsMismatchException(string setting, string? saved, string? registered)
        : base(GhostieErrorCode.InvalidArgument, Describe(setting, saved, registered))
    {
        Setting = setting;
        Saved = saved;
        Registered = registered;
    }

    /// <summary>"backend", or the name of the setting that differs.</summary>
    public string Setting { get; }

    /// <summary>The value in the <see cref="SyncConfiguration"/> given to setup (null: not given).</summary>
    public string? Saved { get; }

    /// <summary>The registered backend's value (null: it has no such setting).</summary>
    public string? Registered { get; }

    private static string Describe(string setting, string? saved, string? registered)
    {
        string what = setting == "backend"
            ? $"SyncConfiguration.Backend is '{saved}', but the registered backend is '{registered}'"
            : $"SyncConfiguration.Settings[\"{setting}\"] is {Quote(saved)}, but the registered backend's is {Quote(registered)}";
        return what + ". Nothing was set up. Either leave SyncConfiguration.Backend and Settings unset (setup then saves the registered backend's settings), "
            + "or register the backend the configuration describes.";
    }

    private static string Quote(string? value) => value is null ? "not set" : $"'{value}'";
}
