namespace Ghostie.Sync.Backends.Postgres.Internal;

/// <summary>The SQL of the schema and of every statement the backend sends. The schema name is validated as a plain
/// lowercase identifier before it is placed in SQL; every value goes as a parameter.</summary>
internal static class Sql
{
    /// <summary>The DDL of migration <paramref name="version"/> (docs/backends/postgres.md, "Schema").</summary>
    public static string Migration(string s, int version) => version switch
    {
        1 => $"""
            CREATE SCHEMA IF NOT EXISTS {s};
            CREATE TABLE IF NOT EXISTS {s}.schema_version (
                version integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now());
            -- Who owns which repository. The owner is the login role (session_user): that is the tenant.
            CREATE TABLE {s}.repositories (
                repository text COLLATE "C" PRIMARY KEY,
                owner name NOT NULL DEFAULT session_user,
                created_at timestamptz NOT NULL DEFAULT now());
            -- One row per object: its current version (random, the compare-and-swap token), size and chunk count.
            CREATE TABLE {s}.objects (
                repository text COLLATE "C" NOT NULL REFERENCES {s}.repositories ON DELETE CASCADE,
                name text COLLATE "C" NOT NULL,
                version bigint NOT NULL,
                size bigint NOT NULL,
                chunks integer NOT NULL,
                written_at timestamptz NOT NULL,
                PRIMARY KEY (repository, name));
            -- The bytes, in chunks of one version each; chunks of a version no object row points to are an upload in
            -- progress or an abandoned one.
            CREATE TABLE {s}.chunks (
                repository text COLLATE "C" NOT NULL,
                name text COLLATE "C" NOT NULL,
                version bigint NOT NULL,
                seq integer NOT NULL,
                data bytea NOT NULL,
                written_at timestamptz NOT NULL,
                PRIMARY KEY (repository, name, version, seq));
            -- Ciphertext does not compress: store it out of line without trying.
            ALTER TABLE {s}.chunks ALTER COLUMN data SET STORAGE EXTERNAL;
            ALTER TABLE {s}.repositories ENABLE ROW LEVEL SECURITY;
            ALTER TABLE {s}.objects ENABLE ROW LEVEL SECURITY;
            ALTER TABLE {s}.objects FORCE ROW LEVEL SECURITY;
            ALTER TABLE {s}.chunks ENABLE ROW LEVEL SECURITY;
            ALTER TABLE {s}.chunks FORCE ROW LEVEL SECURITY;
            CREATE POLICY tenant_rows ON {s}.repositories USING (owner = session_user) WITH CHECK (owner = session_user);
            CREATE POLICY tenant_rows ON {s}.objects
                USING (repository IN (SELECT r.repository FROM {s}.repositories r WHERE r.owner = session_user))
                WITH CHECK (repository IN (SELECT r.repository FROM {s}.repositories r WHERE r.owner = session_user));
            CREATE POLICY tenant_rows ON {s}.chunks
                USING (repository IN (SELECT r.repository FROM {s}.repositories r WHERE r.owner = session_user))
                WITH CHECK (repository IN (SELECT r.repository FROM {s}.repositories r WHERE r.owner = session_user));
            -- Claims a repository name for the calling role, or says it belongs to another, without showing whose.
            -- SECURITY DEFINER: it runs as the tables' owner, who sees every row of repositories (RLS not forced there).
            CREATE FUNCTION {s}.claim_repository(p_repository text) RETURNS text
                LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
            DECLARE found_owner name;
            BEGIN
                INSERT INTO {s}.repositories (repository, owner) VALUES (p_repository, session_user)
                    ON CONFLICT (repository) DO NOTHING;
                SELECT r.owner INTO found_owner FROM {s}.repositories r WHERE r.repository = p_repository;
                IF found_owner = session_user THEN
                    RETURN 'own';
                END IF;
                RETURN 'foreign';
            END
            $fn$;
            REVOKE ALL ON FUNCTION {s}.claim_repository(text) FROM PUBLIC;
            """,
        // Version 2: the same rule, written as a lookup of the row's own repository. Version 1's "repository IN (SELECT
        // ... WHERE owner = session_user)" made every INSERT and UPDATE check scan all of repositories (a hashed subplan),
        // so writes slowed as users grew (the load benchmark, docs/performance.md); EXISTS on the primary key is one probe.
        2 => $"""
            DROP POLICY tenant_rows ON {s}.objects;
            DROP POLICY tenant_rows ON {s}.chunks;
            CREATE POLICY tenant_rows ON {s}.objects
                USING (EXISTS (SELECT 1 FROM {s}.repositories r WHERE r.repository = objects.repository AND r.owner = session_user))
                WITH CHECK (EXISTS (SELECT 1 FROM {s}.repositories r WHERE r.repository = objects.repository AND r.owner = session_user));
            CREATE POLICY tenant_rows ON {s}.chunks
                USING (EXISTS (SELECT 1 FROM {s}.repositories r WHERE r.repository = chunks.repository AND r.owner = session_user))
                WITH CHECK (EXISTS (SELECT 1 FROM {s}.repositories r WHERE r.repository = chunks.repository AND r.owner = session_user));
            """,
        _ => throw new ArgumentOutOfRangeException(nameof(version), version, "no such migration"),
    };

    /// <summary>What a tenant role needs (row-level security limits every table to its own repositories).</summary>
    public static string Grants(string s, string role) => $"""
        GRANT USAGE ON SCHEMA {s} TO "{role}";
        GRANT SELECT ON {s}.schema_version, {s}.repositories TO "{role}";
        GRANT SELECT, INSERT, UPDATE, DELETE ON {s}.objects, {s}.chunks TO "{role}";
        GRANT EXECUTE ON FUNCTION {s}.claim_repository(text) TO "{role}";
        """;

    /// <summary>Which of the three tables exist (a version recorded with a table missing is a damaged schema).</summary>
    public static string TablesPresent(string s) => $"""
        SELECT bool_or(tablename = 'repositories'), bool_or(tablename = 'objects'), bool_or(tablename = 'chunks')
        FROM (SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = '{s}' UNION ALL SELECT '') t
        """;

    public static string Claim(string s) => $"SELECT {s}.claim_repository(@repository)";

    /// <summary>The object's row and its first chunk (all a small object needs) in one round trip.</summary>
    public static string Head(string s) => $"""
        SELECT o.version, o.size, o.chunks, c.data
        FROM {s}.objects o
        LEFT JOIN {s}.chunks c ON c.repository = o.repository AND c.name = o.name AND c.version = o.version AND c.seq = 0
        WHERE o.repository = @repository AND o.name = @name
        """;

    public static string Version(string s) => $"SELECT version FROM {s}.objects WHERE repository = @repository AND name = @name";

    public static string Chunk(string s) =>
        $"SELECT data FROM {s}.chunks WHERE repository = @repository AND name = @name AND version = @version AND seq = @seq";

    public static string InsertChunk(string s) => $"""
        INSERT INTO {s}.chunks (repository, name, version, seq, data, written_at)
        VALUES (@repository, @name, @version, @seq, @data, @now)
        ON CONFLICT (repository, name, version, seq) DO UPDATE SET data = excluded.data, written_at = excluded.written_at
        """;

    public static string LockCurrent(string s) =>
        $"SELECT version FROM {s}.objects WHERE repository = @repository AND name = @name FOR UPDATE";

    public static string CountChunks(string s) =>
        $"SELECT count(*), coalesce(sum(length(data)), 0) FROM {s}.chunks WHERE repository = @repository AND name = @name AND version = @version";

    /// <summary>Creates the object's row unless one exists (returns 0 rows then: a concurrent creator won).</summary>
    public static string InsertObject(string s) => $"""
        INSERT INTO {s}.objects (repository, name, version, size, chunks, written_at)
        VALUES (@repository, @name, @version, @size, @chunks, @now)
        ON CONFLICT (repository, name) DO NOTHING
        """;

    /// <summary>Points the (locked) row at the new version.</summary>
    public static string UpdateObject(string s) => $"""
        UPDATE {s}.objects SET version = @version, size = @size, chunks = @chunks, written_at = @now
        WHERE repository = @repository AND name = @name
        """;

    public static string DeleteChunks(string s) =>
        $"DELETE FROM {s}.chunks WHERE repository = @repository AND name = @name AND version = @version";

    /// <summary>Deletes the object's row and its chunks in one statement; returns 1 when there was an object.</summary>
    public static string Delete(string s) => $"""
        WITH gone AS (
            DELETE FROM {s}.objects WHERE repository = @repository AND name = @name RETURNING repository, name, version),
        chunks AS (
            DELETE FROM {s}.chunks c USING gone g
            WHERE c.repository = g.repository AND c.name = g.name AND c.version = g.version)
        SELECT count(*) FROM gone
        """;

    /// <summary>One page of names under a prefix, after a name, in byte order (the columns are COLLATE "C").</summary>
    public static string List(string s) => $"""
        SELECT name FROM {s}.objects
        WHERE repository = @repository AND name > @after AND name >= @prefix AND starts_with(name, @prefix)
        ORDER BY name
        LIMIT @limit
        """;

    /// <summary>One page of names with size and write time, as <see cref="List"/>.</summary>
    public static string ListDetailed(string s) => $"""
        SELECT name, size, written_at FROM {s}.objects
        WHERE repository = @repository AND name > @after AND name >= @prefix AND starts_with(name, @prefix)
        ORDER BY name
        LIMIT @limit
        """;

    /// <summary>Deletes objects under a prefix last written before a time, with their chunks; returns how many.</summary>
    public static string DeleteWrittenBefore(string s) => $"""
        WITH gone AS (
            DELETE FROM {s}.objects
            WHERE repository = @repository AND name >= @prefix AND starts_with(name, @prefix) AND written_at < @cutoff
            RETURNING repository, name, version),
        chunks AS (
            DELETE FROM {s}.chunks c USING gone g
            WHERE c.repository = g.repository AND c.name = g.name AND c.version = g.version)
        SELECT count(*) FROM gone
        """;

    /// <summary>Deletes chunks of uploads that never completed: no object row points to their version, and they are old.</summary>
    public static string DeleteAbandoned(string s) => $"""
        DELETE FROM {s}.chunks c
        WHERE c.repository = @repository AND c.written_at < @cutoff
          AND NOT EXISTS (SELECT 1 FROM {s}.objects o
                          WHERE o.repository = c.repository AND o.name = c.name AND o.version = c.version)
        """;
}
