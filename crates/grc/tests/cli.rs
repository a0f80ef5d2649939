//! The `grc` command, run as a process on a fresh embedded (SQLite) data directory.

#![allow(clippy::unwrap_used)]

use base64::Engine;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const SECRET: &str = "cli-test-secret-0123456789abcdef0123456789";

struct DataDir(PathBuf);

impl DataDir {
    fn new() -> Self {
        let p = std::env::temp_dir().join(format!("grc-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    fn grc(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_grc"));
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GRC_DATA_DIR", &self.0)
            .env("GRC_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn");
        c
    }
    fn db_url(&self) -> String {
        format!("sqlite://{}?mode=rw", self.0.join("grc.db").display())
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn tenants_users_tokens_and_audit() {
    let d = DataDir::new();
    let o = d.grc(&[
        "tenant",
        "create",
        "--slug",
        "st-marys",
        "--name",
        "St. Mary's",
        "--kind",
        "covered-entity",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("created tenant st-marys"));
    let o = d.grc(&[
        "tenant", "create", "--slug", "st-marys", "--name", "Again", "--kind", "hybrid",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("exists"), "{}", stderr(&o));
    let o = d.grc(&[
        "tenant", "create", "--slug", "Bad Slug", "--name", "X", "--kind", "hybrid",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("slug"), "{}", stderr(&o));
    let o = d.grc(&[
        "tenant", "create", "--slug", "ok-slug", "--name", "X", "--kind", "vendor",
    ]);
    assert!(stderr(&o).contains("kind must be"), "{}", stderr(&o));

    let o = d.grc(&[
        "user",
        "add",
        "--tenant",
        "st-marys",
        "--email",
        "Ann@Example.org",
        "--role",
        "owner",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = d.grc(&[
        "user",
        "add",
        "--tenant",
        "st-marys",
        "--email",
        "ann@example.org",
        "--role",
        "viewer",
    ]);
    assert!(stderr(&o).contains("already a member"), "{}", stderr(&o));
    let o = d.grc(&[
        "user",
        "add",
        "--tenant",
        "st-marys",
        "--email",
        "bob@example.org",
        "--role",
        "admin",
    ]);
    assert!(stderr(&o).contains("role must be"), "{}", stderr(&o));
    let o = d.grc(&[
        "user",
        "add",
        "--tenant",
        "nope",
        "--email",
        "bob@example.org",
        "--role",
        "viewer",
    ]);
    assert!(stderr(&o).contains("no tenant"), "{}", stderr(&o));

    // The token is an HS256 JWT for the user, valid for the requested time.
    let o = d.grc(&[
        "token",
        "--tenant",
        "st-marys",
        "--email",
        "ann@example.org",
        "--ttl",
        "2h",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let token = stdout(&o).trim().to_owned();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iss"], "grc");
    assert_eq!(claims["aud"], "grc");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        7200
    );
    let o = d.grc(&[
        "token",
        "--tenant",
        "st-marys",
        "--email",
        "nobody@example.org",
    ]);
    assert!(!o.status.success());
    let o = d.grc(&[
        "token",
        "--tenant",
        "st-marys",
        "--email",
        "ann@example.org",
        "--ttl",
        "90d",
    ]);
    assert!(stderr(&o).contains("30 days"), "{}", stderr(&o));

    // The chain verifies, then an edit made behind the application's back is reported.
    let o = d.grc(&["audit", "verify"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("st-marys: ok, 2 events"),
        "{}",
        stdout(&o)
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sea_orm::ConnectionTrait;
        let db = sea_orm::Database::connect(d.db_url()).await.unwrap();
        db.execute_unprepared("UPDATE audit_events SET action = 'tenant.delete' WHERE seq = 1")
            .await
            .unwrap();
        db.close().await.unwrap();
    });
    let o = d.grc(&["audit", "verify", "--tenant", "st-marys"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("st-marys: BROKEN: event seq 1"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn bad_configuration_names_the_setting() {
    let d = DataDir::new();
    let o = d
        .command(&["migrate"])
        .env("GRC_BIND", "not-an-address")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("GRC_BIND"), "{}", stderr(&o));
    let o = d
        .command(&["migrate"])
        .env("GRC_JWT_SECRET", "short")
        .output()
        .unwrap();
    assert!(stderr(&o).contains("GRC_JWT_SECRET"), "{}", stderr(&o));
    let o = d
        .command(&["migrate"])
        .env("GRC_CONFIG", "/nonexistent.toml")
        .output()
        .unwrap();
    assert!(stderr(&o).contains("GRC_CONFIG"), "{}", stderr(&o));
    // A TOML file is read, and the environment overrides it.
    let toml = d.0.join("grc.toml");
    std::fs::write(&toml, "max_query_depth = 0\n").unwrap();
    let o = d
        .command(&["migrate"])
        .env("GRC_CONFIG", &toml)
        .output()
        .unwrap();
    assert!(stderr(&o).contains("GRC_MAX_QUERY_DEPTH"), "{}", stderr(&o));
    let o = d
        .command(&["migrate"])
        .env("GRC_CONFIG", &toml)
        .env("GRC_MAX_QUERY_DEPTH", "10")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn schema_prints_the_committed_sdl() {
    let o = Command::new(env!("CARGO_BIN_EXE_grc"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(o.status.success());
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/schema.graphql"
    ))
    .unwrap();
    assert_eq!(stdout(&o), committed);
}

#[test]
fn serve_demo_answers_viewer() {
    let d = DataDir::new();
    let mut child = d
        .command(&["serve", "--demo", "--bind", "127.0.0.1:0"])
        .env_remove("GRC_JWT_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .to_owned();
    let mut token = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.trim_start().starts_with("eyJ") {
            token = Some(line.trim().to_owned());
            break;
        }
    }
    let token = token.expect("a demo token");
    // The secret was generated into the data directory, readable by its owner only.
    let secret = d.0.join("jwt-secret");
    assert!(secret.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Embedded, the server runs the worker: its metrics are in the server's /metrics.
    let metrics = rt.block_on(async {
        reqwest::get(format!("http://{addr}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    for series in [
        "grc_reminders_scheduled_total ",
        "grc_delivery_queue_depth ",
        "grc_scheduler_ticks_total ",
    ] {
        assert!(metrics.contains(series), "{series} missing:\n{metrics}");
    }
    assert_eq!(metrics.matches("# EOF").count(), 1, "{metrics}");
    let body: serde_json::Value = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("http://{addr}/graphql"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "query": "{ viewer { user { email } memberships { role tenant { slug kind } } }
                framework(key: \"baa-security-schedule\") { controlCount
                  control(ref: \"S-3\") { mappings(toFramework: \"hipaa-sr\", maxHops: 2) { target { ref } state } } } }" }))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        body["data"]["viewer"]["user"]["email"], "owner@st-marys.example",
        "{body}"
    );
    assert_eq!(body["data"]["viewer"]["memberships"][0]["role"], "OWNER");
    // The hospital's demo schedule reaches HIPAA through ISO A.5.20, over the derived link the
    // seed confirmed.
    let framework = &body["data"]["framework"];
    assert_eq!(framework["controlCount"], 3, "{body}");
    let paths = framework["control"]["mappings"].as_array().unwrap();
    assert!(
        paths
            .iter()
            .any(|p| p["target"]["ref"] == "164.308(b)(1)" && p["state"] == "CONFIRMED"),
        "{body}"
    );
    assert_eq!(
        body["data"]["viewer"]["memberships"][0]["tenant"]["kind"],
        "COVERED_ENTITY"
    );
}

/// Starts `grc serve` and returns the child and its address.
fn start_server(d: &DataDir, extra_env: &[(&str, &str)]) -> (std::process::Child, String) {
    let mut cmd = d.command(&["serve", "--bind", "127.0.0.1:0"]);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .to_owned();
    (child, addr)
}

#[test]
fn serves_while_the_trace_collector_is_down() {
    let d = DataDir::new();
    let o = d.grc(&[
        "tenant", "create", "--slug", "alpha", "--name", "Alpha", "--kind", "hybrid",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = d.grc(&[
        "user",
        "add",
        "--tenant",
        "alpha",
        "--email",
        "a@alpha.test",
        "--role",
        "viewer",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let token = stdout(&d.grc(&["token", "--tenant", "alpha", "--email", "a@alpha.test"]))
        .trim()
        .to_owned();
    // Nothing listens on port 9 of loopback: every export attempt fails.
    let (mut child, addr) = start_server(
        &d,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
            ("RUST_LOG", "info"),
        ],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (health, body) = rt.block_on(async {
        let c = reqwest::Client::new();
        let health = c
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        let mut last = serde_json::Value::Null;
        for _ in 0..20 {
            last = c
                .post(format!("http://{addr}/graphql"))
                .bearer_auth(&token)
                .header(
                    "traceparent",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                )
                .json(&serde_json::json!({ "query": "{ viewer { role } }" }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        }
        (health, last)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(health, 200);
    assert_eq!(body["data"]["viewer"]["role"], "VIEWER", "{body}");
}

// ---------------------------------------------------------------------------------------------
// Catalogs: `grc migrate` loads them, `grc catalog import` adds OSCAL, `grc catalog list` shows

fn reference_data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/reference-data")
        .join(rel)
}

const HIGH_JSON: &str =
    "nist-sp800-53r5/NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json";
const LOW_JSON: &str = "nist-sp800-53r5/NIST_SP-800-53_rev5_LOW-baseline_profile.json";
const BASIC_CATALOG_JSON: &str = "nist-oscal-content/examples/basic-catalog.json";
const BASIC_PROFILE_JSON: &str = "nist-oscal-content/examples/basic-profile.json";

/// Rows in `table` of the data directory's database.
fn count_rows(d: &DataDir, table: &str) -> i64 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sea_orm::ConnectionTrait;
        let db = sea_orm::Database::connect(d.db_url()).await.unwrap();
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        let n = row.try_get::<i64>("", "n").unwrap();
        db.close().await.unwrap();
        n
    })
}

/// The `grc catalog list` line of framework `key`, if listed.
fn listed(out: &str, key: &str) -> Option<String> {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .map(str::to_owned)
}

fn path_arg(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn migrate_twice_loads_the_catalogs_once() {
    let d = DataDir::new();
    let revision = |out: &str| -> i64 {
        out.lines()
            .find(|l| l.starts_with("catalogs:"))
            .and_then(|l| l.rsplit("revision ").next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no revision in {out:?}"))
    };
    let o = d.grc(&["migrate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let first = stdout(&o);
    assert!(first.contains("migrations applied"), "{first}");
    assert!(
        first
            .contains("catalogs: 7 frameworks loaded, 0 unchanged, 0 retired; controls 1741 added"),
        "{first}"
    );
    assert!(
        first.contains("crosswalks 3 loaded, 0 unchanged, 0 retired; links 1339 added"),
        "{first}"
    );
    let o = d.grc(&["migrate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let second = stdout(&o);
    assert!(
        second.contains(
            "catalogs: 0 frameworks loaded, 7 unchanged, 0 retired; controls 0 added, 0 changed, 0 retired; \
             crosswalks 0 loaded, 3 unchanged, 0 retired; links 0 added, 0 changed, 0 retired"
        ),
        "{second}"
    );
    assert_eq!(revision(&second), revision(&first));
    assert_eq!(count_rows(&d, "catalog_frameworks"), 7);
    assert_eq!(count_rows(&d, "catalog_controls"), 1741);
    assert_eq!(count_rows(&d, "catalog_mappings"), 1339);
}

#[test]
fn catalog_import_and_list() {
    let d = DataDir::new();
    let high = reference_data(HIGH_JSON);
    let low = reference_data(LOW_JSON);
    let o = d.grc(&["catalog", "list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = stdout(&o);
    assert_eq!(before.lines().count(), 7, "{before}");
    assert!(
        listed(&before, "iso27001-2022").is_some_and(|l| l.contains(" 134 controls")),
        "{before}"
    );

    // The NIST HIGH baseline as a shared framework.
    let o = d.grc(&["catalog", "import", path_arg(&high), "--key", "nist-high"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("imported shared framework nist-high (370 controls)"),
        "{}",
        stdout(&o)
    );
    let list = stdout(&d.grc(&["catalog", "list"]));
    assert!(
        listed(&list, "nist-high").is_some_and(|l| l.contains(" 370 controls")),
        "{list}"
    );
    assert_eq!(list.lines().count(), 8, "{list}");

    // The LOW profile imports the SP 800-53 catalog by a back-matter uuid, which is not here.
    let o = d.grc(&["catalog", "import", path_arg(&low), "--key", "nist-low"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains(
            "the profile imports #84cbf061-eb87-4ec1-8112-1f529232e907, which is not an imported catalog"
        ),
        "{err}"
    );
    assert!(listed(&stdout(&d.grc(&["catalog", "list"])), "nist-low").is_none());
    let o = d.grc(&[
        "catalog",
        "import",
        path_arg(&low),
        "--key",
        "nist-low",
        "--against",
        "nist-high",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("imported shared framework nist-low (149 controls)"),
        "{}",
        stdout(&o)
    );
    let list = stdout(&d.grc(&["catalog", "list"]));
    assert!(
        listed(&list, "nist-low").is_some_and(|l| l.contains(" 149 controls")),
        "{list}"
    );
    assert_eq!(count_rows(&d, "catalog_frameworks"), 9);
    assert_eq!(count_rows(&d, "catalog_controls"), 1741 + 370 + 149);

    // Refusals name the problem and store nothing.
    let big = d.0.join("big.json");
    {
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(50 * 1_000_000).unwrap();
    }
    let started = std::time::Instant::now();
    let o = d.grc(&["catalog", "import", path_arg(&big), "--key", "big"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("limit"), "{}", stderr(&o));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let not_json = d.0.join("notes.json");
    std::fs::write(&not_json, "catalog: yes\n").unwrap();
    let o = d.grc(&["catalog", "import", path_arg(&not_json), "--key", "notes"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not JSON"), "{}", stderr(&o));
    let o = d.grc(&[
        "catalog",
        "import",
        path_arg(&reference_data(BASIC_CATALOG_JSON)),
        "--key",
        "nist-high",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("taken"), "{}", stderr(&o));
    let o = d.grc(&[
        "catalog",
        "import",
        path_arg(&reference_data(BASIC_CATALOG_JSON)),
        "--key",
        "iso27001-2022",
    ]);
    assert!(stderr(&o).contains("taken"), "{}", stderr(&o));
    let o = d.grc(&["catalog", "import", "/nonexistent/catalog.json"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("/nonexistent/catalog.json"),
        "{}",
        stderr(&o)
    );
    assert_eq!(count_rows(&d, "catalog_frameworks"), 9);
    assert_eq!(count_rows(&d, "catalog_controls"), 1741 + 370 + 149);
    assert_eq!(count_rows(&d, "custom_frameworks"), 0);
}

#[test]
fn catalog_import_for_one_tenant() {
    let d = DataDir::new();
    for slug in ["alpha", "beta"] {
        let o = d.grc(&[
            "tenant", "create", "--slug", slug, "--name", slug, "--kind", "hybrid",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let catalog = reference_data(BASIC_CATALOG_JSON);
    let profile = reference_data(BASIC_PROFILE_JSON);
    // The key defaults to the file name.
    let o = d.grc(&["catalog", "import", path_arg(&catalog), "--tenant", "alpha"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("imported framework basic-catalog (4 controls) for tenant alpha"),
        "{}",
        stdout(&o)
    );
    // The profile finds the catalog by the file name it was imported under.
    let o = d.grc(&[
        "catalog",
        "import",
        path_arg(&profile),
        "--tenant",
        "alpha",
        "--key",
        "basic-prof",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("imported framework basic-prof (3 controls) for tenant alpha"),
        "{}",
        stdout(&o)
    );
    // The same key again, for the same tenant: refused.
    let o = d.grc(&["catalog", "import", path_arg(&catalog), "--tenant", "alpha"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("basic-catalog"), "{}", stderr(&o));
    let o = d.grc(&["catalog", "import", path_arg(&catalog), "--tenant", "nope"]);
    assert!(stderr(&o).contains("no tenant"), "{}", stderr(&o));

    // Only alpha has them: not shared, not beta's.
    let shared = stdout(&d.grc(&["catalog", "list"]));
    assert_eq!(shared.lines().count(), 7, "{shared}");
    assert!(listed(&shared, "basic-catalog").is_none(), "{shared}");
    let o = d.grc(&["catalog", "list", "--tenant", "alpha"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let alpha = stdout(&o);
    assert_eq!(alpha.lines().count(), 9, "{alpha}");
    assert!(
        listed(&alpha, "basic-catalog")
            .is_some_and(|l| l.contains(" 4 controls") && l.ends_with("[alpha]")),
        "{alpha}"
    );
    assert!(
        listed(&alpha, "basic-prof")
            .is_some_and(|l| l.contains(" 3 controls") && l.ends_with("[alpha]")),
        "{alpha}"
    );
    let beta = stdout(&d.grc(&["catalog", "list", "--tenant", "beta"]));
    assert_eq!(beta, shared);
    assert_eq!(count_rows(&d, "catalog_frameworks"), 7);
    assert_eq!(count_rows(&d, "custom_frameworks"), 2);
    assert_eq!(count_rows(&d, "custom_controls"), 7);
    // Each import is on alpha's audit trail, which still verifies.
    let o = d.grc(&["audit", "verify", "--tenant", "alpha"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains("alpha: ok, 3 events"), "{}", stdout(&o));
}
