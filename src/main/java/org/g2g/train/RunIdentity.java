package org.g2g.train;

import org.g2g.Invocation;
import org.g2g.Version;
import org.g2g.io.WriterLock;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a run was made, kept in config.json under "run" so a result can be traced to its source:
 * the hash of the resolved config, and per process that trained it (the first, then each
 * resume) the command line, host, start time, g2g version, git commit and whether that git
 * tree had uncommitted changes. Bookkeeping only: resume never compares it.
 */
public final class RunIdentity {
    private RunIdentity() {}

    public static final String KEY = "run";

    /** This process's session: command (null outside the CLI), host, start, version, commit, dirty (null: unknown). */
    static Map<String, Object> session(Instant started) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", Invocation.commandLine());
        m.put("host", WriterLock.host());
        m.put("started", started.truncatedTo(ChronoUnit.MILLIS).toString());
        m.put("g2g_version", Version.version());
        m.put("git_commit", Version.gitCommit());
        m.put("git_dirty", Version.gitDirty());
        return m;
    }

    /**
     * The "run" block for config.json: previous, the block of the run's config.json before this
     * session (null for a new run), keeps its first session's fields and gains this session in
     * "resumes"; config_sha256 is always the current config's.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> block(String configJson, Map<String, Object> thisSession, Object previous) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("config_sha256", ModelMetadata.sha256(configJson));
        if (previous instanceof Map<?, ?> p && p.containsKey("started")) {
            for (Map.Entry<?, ?> e : p.entrySet()) {
                String k = String.valueOf(e.getKey());
                if (!k.equals("config_sha256") && !k.equals("resumes")) m.put(k, e.getValue());
            }
            List<Object> resumes = new ArrayList<>();
            if (p.get("resumes") instanceof List<?> l) resumes.addAll(l);
            resumes.add(thisSession);
            m.put("resumes", resumes);
        } else {
            m.putAll(thisSession);
            m.put("resumes", List.of());
        }
        return m;
    }
}
