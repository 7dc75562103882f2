using System.Globalization;
using Npgsql;

namespace Ghostie.Sync.Backends.Postgres;

/// <summary>Options of the PostgreSQL backend (<see cref="PostgresBackend"/>): which server and role, which repository,
/// and how objects are cut into chunks.</summary>
public sealed class PostgresBackendOptions
{
    /// <summary>The smallest chunk size accepted, in bytes (64 KiB).</summary>
    public const int MinChunkSizeBytes = 64 * 1024;

    /// <summary>The largest chunk size accepted, in bytes (16 MiB): one or two chunks are held in memory per upload.</summary>
    public const int MaxChunkSizeBytes = 16 * 1024 * 1024;

    /// <summary>The Npgsql connection string (Host, Port, Database, Username, Password, SSL Mode, ...). Required. The
    /// role it logs in as is the tenant: it reaches only the repositories it owns. The password in it is never logged nor
    /// shown in an error; the CLI reads the whole string from an environment variable and never stores it.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>The repository's name in the database: 1 to 63 characters of a-z, 0-9, '-' and '_'. Required. The first
    /// role to use a name owns it; any other role is refused (<see cref="GhostieErrorCode.AccessDenied"/>).</summary>
    public string Repository { get; set; } = "";

    /// <summary>The schema holding Ghostie's tables (default "ghostie"): a lowercase SQL identifier.</summary>
    public string Schema { get; set; } = "ghostie";

    /// <summary>Whether the first use creates the schema, or migrates an older one, when the role may (it owns the
    /// database, or has CREATE on it). When false, or when the role may not, a missing or older schema is reported and an
    /// administrator runs <see cref="PostgresSchema.MigrateAsync"/>. Default true.</summary>
    public bool CreateSchema { get; set; } = true;

    /// <summary>Objects are stored in rows of at most this many bytes (64 KiB to 16 MiB, default 1 MiB). An upload holds two
    /// chunks in memory at most, a download one.</summary>
    public int ChunkSizeBytes { get; set; } = 1024 * 1024;

    /// <summary>How long handoff packages (<c>x/</c>) and their resume claims (<c>xc/</c>) are kept after they were last
    /// written, whatever they say inside: the database-side retention of conversations. The sweep runs when the backend is
    /// first used and on <see cref="PostgresBackend.SweepHandoffsAsync"/>. Null (the default) keeps them until the handoff
    /// service deletes them (resumed, cancelled or expired). At least one hour.</summary>
    public TimeSpan? HandoffRetention { get; set; }

    /// <summary>How old a chunk of an upload that never completed (a crash, a lost connection) must be before the backend
    /// deletes it (default 24 hours; at least 10 minutes, so an upload in progress elsewhere is never touched).</summary>
    public TimeSpan AbandonedUploadAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How transient failures (a lost connection, a server restarting, a serialization failure) are retried.</summary>
    public BackendRetryOptions Retry { get; set; } = new();

    /// <summary>The clock that stamps rows with their write time and decides what retention removes (tests inject a fake one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Every problem with these options, as messages naming the option and what to do; empty when valid.
    /// Never echoes the connection string.</summary>
    public IReadOnlyList<string> GetValidationErrors()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            errors.Add("PostgresBackendOptions.ConnectionString is required: give an Npgsql connection string such as 'Host=db.example.com;Database=ghostie;Username=alice;Password=...' (the CLI reads it from the environment variable named at setup).");
        }
        else if (TryParse(ConnectionString) is not { } builder)
        {
            errors.Add("PostgresBackendOptions.ConnectionString is not a valid Npgsql connection string (its text is not shown, as it may hold a password): check the keywords and values, 'Key=value' pairs separated by ';'.");
        }
        else if (string.IsNullOrWhiteSpace(builder.Host))
        {
            errors.Add("PostgresBackendOptions.ConnectionString names no Host: add 'Host=<server>'.");
        }

        if (!IsRepositoryName(Repository))
        {
            errors.Add($"PostgresBackendOptions.Repository '{Shorten(Repository)}' is not a repository name: use 1 to 63 characters of a-z, 0-9, '-' and '_'.");
        }

        if (!IsIdentifier(Schema))
        {
            errors.Add($"PostgresBackendOptions.Schema '{Shorten(Schema)}' is not usable: use 1 to 63 characters of a-z, 0-9 and '_', starting with a letter or '_'.");
        }

        if (ChunkSizeBytes is < MinChunkSizeBytes or > MaxChunkSizeBytes)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"PostgresBackendOptions.ChunkSizeBytes is {ChunkSizeBytes}; use {MinChunkSizeBytes} (64 KiB) to {MaxChunkSizeBytes} (16 MiB)."));
        }

        if (HandoffRetention is { } retention && retention < TimeSpan.FromHours(1))
        {
            errors.Add($"PostgresBackendOptions.HandoffRetention is {retention}; use at least one hour, or null to keep packages until they are resumed or expire.");
        }

        if (AbandonedUploadAge < TimeSpan.FromMinutes(10))
        {
            errors.Add($"PostgresBackendOptions.AbandonedUploadAge is {AbandonedUploadAge}; use at least 10 minutes, so an upload still in progress is never removed.");
        }

        if (TimeProvider is null)
        {
            errors.Add("PostgresBackendOptions.TimeProvider must not be null.");
        }

        if (Retry is null)
        {
            errors.Add("PostgresBackendOptions.Retry must not be null.");
        }
        else
        {
            try
            {
                Retry.Validate();
            }
            catch (GhostieSyncException e)
            {
                errors.Add("PostgresBackendOptions.Retry: " + e.Message);
            }
        }

        return errors;
    }

    /// <summary>Throws when the options are invalid, listing every problem.</summary>
    /// <exception cref="GhostieSyncException">An option is invalid (<see cref="GhostieErrorCode.InvalidArgument"/>).</exception>
    public void Validate()
    {
        IReadOnlyList<string> errors = GetValidationErrors();
        if (errors.Count > 0)
        {
            throw new GhostieSyncException(GhostieErrorCode.InvalidArgument, string.Join(" ", errors));
        }
    }

    /// <summary>Whether <paramref name="value"/> is a repository name (1 to 63 of a-z, 0-9, '-', '_').</summary>
    /// <param name="value">The candidate.</param>
    public static bool IsRepositoryName(string? value) =>
        value is { Length: >= 1 and <= 63 } && value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');

    /// <summary>Whether <paramref name="value"/> is a plain lowercase SQL identifier (safe to place in SQL unquoted).</summary>
    internal static bool IsIdentifier(string? value) =>
        value is { Length: >= 1 and <= 63 } && value[0] is (>= 'a' and <= 'z') or '_'
        && value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_');

    /// <summary>The parsed connection string, or null when Npgsql refuses it (its exception is dropped: it may quote a value).</summary>
    internal static NpgsqlConnectionStringBuilder? TryParse(string connectionString)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or KeyNotFoundException or OverflowException)
        {
            return null;
        }
    }

    private static string Shorten(string? value) => value is null ? "(null)" : value.Length > 80 ? string.Concat(value.AsSpan(0, 80), "...") : value;
}
