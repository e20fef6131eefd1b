//! The property each fuzz target checks, one function per target, over raw bytes.
//!
//! Why a separate file: the fuzz targets (`fuzz/fuzz_targets/*.rs`) call these
//! functions, and the main crate's `tests/it/fuzz_regressions.rs` includes this same
//! file to replay the regression corpus (`tests/data/fuzz-regressions/<target>/`) in
//! `cargo test`, on stable and without libFuzzer. So what CI checks on a saved input
//! is exactly what the fuzzer checked when it found it. It depends only on `fleetsim`
//! and `toml` (both available to the tests), and never reads or writes files.
//!
//! Every check panics (that is how libFuzzer and the replay test see a failure) when
//! the library panics, or when a property stated in the library's docs fails:
//! errors are located (line >= 1) and non-empty, trees round-trip through the inline
//! TOML form, `%VAR%` expansion agrees with a plain reference, unit values are finite.

use std::path::Path;

use fleetsim::diag::{Diagnostic, InputError};
use fleetsim::scenario::model::{Arch, NetType, OsVersion};
use fleetsim::scenario::units::{self, Quantity};
use fleetsim::scenario::value::{self, SourceCtx};
use fleetsim::tasksequence::cond::{CompiledCondition, Machine};
use fleetsim::tasksequence::expand::{cmd_exit_code, expand};
use fleetsim::tasksequence::tree::{Condition, Node, StepKind, TaskSequence, VarOp};
use fleetsim::tasksequence::wql::Query;
use fleetsim::tasksequence::{inline, lint, print, xml};
use toml::de::DeTable;

// A file of its own (this one is long); `#[path]` so that the regression replay,
// which includes this file from `tests/it`, finds it too.
#[path = "counters.rs"]
pub mod counters;

/// A fuzz target's check: panics when the property fails.
pub type Check = fn(&[u8]);

/// Every target, by the name of its folder under `fuzz/fuzz_targets` and
/// `tests/data/fuzz-regressions`, with its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("scenario", scenario),
    ("units", units),
    ("ts_xml", ts_xml),
    ("ts_inline", ts_inline),
    ("wql", wql),
    ("condition", condition),
    ("expand", expand_vars),
    ("simulate", simulate),
    ("counters", counters::counters),
];

/// A folder that does not exist, so relative `csv = ...` / `xml = ...` paths in fuzzed
/// scenarios fail to read instead of touching the checkout.
const NO_DIR: &str = "/nonexistent/fleetsim-fuzz";

/// The scenario reader: the bytes up to the first NUL are the scenario text, each
/// later NUL-separated piece is one `--set KEY=VALUE` override. Either the scenario
/// loads (and `warnings` runs on it, and loading again gives the same scenario), or
/// every diagnostic has a message, and those in the file have a line.
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let file = parts.next().unwrap_or_default();
    let overrides: Vec<String> = parts.take(8).map(str::to_string).collect();
    let name = Path::new("fuzz.toml");
    let r = fleetsim::scenario::load_str(file, name, Path::new(NO_DIR), &overrides);
    match &r {
        Ok(s) => {
            let _ = fleetsim::scenario::warnings(s);
            let _ = print::show(&s.task_sequence);
        }
        Err(e) => check_error(e, name, file),
    }
    let again = fleetsim::scenario::load_str(file, name, Path::new(NO_DIR), &overrides);
    assert_eq!(
        format!("{r:?}"),
        format!("{again:?}"),
        "loading twice differs"
    );
}

/// The simulation of whatever the scenario reader accepts, shrunk to at most 4
/// clients and 1,000 bandwidth intervals so that one input runs in milliseconds:
/// input as for [`scenario`]. A run either starts and ends or is refused with a
/// reason; it never panics. (The reader's own checks are `scenario`'s.)
pub fn simulate(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let file = parts.next().unwrap_or_default();
    let overrides: Vec<String> = parts.take(8).map(str::to_string).collect();
    let name = Path::new("fuzz.toml");
    let Ok(mut s) = fleetsim::scenario::load_str(file, name, Path::new(NO_DIR), &overrides) else {
        return;
    };
    s.fleet.clients = s.fleet.clients.min(4);
    let sim = &mut s.simulation;
    sim.bandwidth_interval = sim.bandwidth_interval.max(sim.horizon / 1000).max(1);
    match fleetsim::sim::run(&s, &fleetsim::sim::RunOptions::default()) {
        Ok(r) => {
            let _ = r;
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// The unit parsers: the first byte picks the quantity, the rest is the text. A parsed
/// value is finite; `to_u64` refuses (never wraps) what does not fit; a plain decimal
/// number parses to itself times the bare scale.
pub fn units(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(s) = std::str::from_utf8(rest) else {
        return;
    };
    let q = [
        Quantity::Duration,
        Quantity::Size,
        Quantity::Rate,
        Quantity::Number,
    ][usize::from(pick % 4)];
    match units::parse_str(q, s) {
        Ok(v) => {
            assert!(v.is_finite(), "{s:?} parsed to {v}");
            if let Ok(n) = units::to_u64(v) {
                assert!(
                    v >= 0.0 && (n as f64 - v).abs() <= 0.5 + v * 1e-15,
                    "{v} -> {n}"
                );
            }
        }
        Err(msg) => assert!(!msg.is_empty()),
    }
    let t = s.trim();
    let plain = t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if let (true, Ok(x)) = (plain, t.parse::<f64>()) {
        let want = x * q.bare_scale();
        if want.is_finite() {
            assert_eq!(units::parse_str(q, s), Ok(want), "{s:?}");
        }
    }
    if let Ok(Ok(v)) = s.trim().parse::<f64>().map(|f| units::from_number(q, f)) {
        assert!(v.is_finite());
    }
}

/// The task-sequence XML importer: an import prints, lints and round-trips through the
/// inline TOML form to the identical tree; a refusal is located.
pub fn ts_xml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let name = Path::new("fuzz.xml");
    match xml::import_str(text, name) {
        Ok(ts) => round_trip(&ts),
        Err(e) => check_error(&e, name, text),
    }
}

/// The inline `[task_sequence]` reader: what it reads prints back to itself.
pub fn ts_inline(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_inline(text) {
        Ok(ts) => round_trip(&ts),
        Err(errors) => check_error(&InputError(errors), Path::new("fuzz.toml"), text),
    }
}

/// The WQL parser and evaluator: the first 24 bytes describe the client, the rest is
/// the query. Evaluation never panics and is a function of the query and the client.
pub fn wql(data: &[u8]) {
    let mut b = Bytes(data);
    let parts = MachineParts::read(&mut b);
    let Ok(q) = std::str::from_utf8(b.0) else {
        return;
    };
    match Query::parse(q) {
        Ok(query) => {
            let m = parts.machine();
            let first = query.eval(&m);
            assert_eq!(first, query.eval(&m));
            let _ = (
                query.class_name(),
                query.class_known(),
                query.unknown_property(),
            );
            if query.unknown_property().is_some() || !query.class_known() {
                assert!(!first, "a query on an unknown class or property matched");
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// `CompiledCondition`: a condition tree built from the bytes (up to 70 levels, past
/// the readers' and the compiler's caps), a client and variables. Compiling either
/// fails with a message or gives a condition whose value is stable; `not` is the
/// negation of `or`; every tree within the readers' depth cap round-trips through
/// the inline TOML form.
pub fn condition(data: &[u8]) {
    let mut b = Bytes(data);
    let parts = MachineParts::read(&mut b);
    let vars = pairs(&mut b, 4);
    let c = build_condition(&mut b, 0);
    let m = parts.machine();
    let _ = print::describe_condition(&c);
    match CompiledCondition::compile(&c) {
        Ok(compiled) => {
            let v = compiled.eval(&m, &vars);
            assert_eq!(v, compiled.eval(&m, &vars));
            let kids = match &c {
                Condition::All(k) | Condition::Any(k) | Condition::None(k) => Some(k.clone()),
                _ => None,
            };
            if let Some(kids) = kids {
                let any = CompiledCondition::compile(&Condition::Any(kids.clone()));
                let none = CompiledCondition::compile(&Condition::None(kids));
                if let (Ok(any), Ok(none)) = (any, none) {
                    assert_eq!(any.eval(&m, &vars), !none.eval(&m, &vars));
                }
            }
        }
        Err(msg) => assert!(!msg.is_empty()),
    }
    if depth(&c) <= inline::MAX_CONDITION_DEPTH {
        let ts = TaskSequence {
            name: "fuzz".into(),
            variables: Vec::new(),
            steps: vec![Node {
                name: "step".into(),
                description: String::new(),
                condition: Some(c),
                continue_on_error: false,
                disabled: false,
                retry_count: 0,
                success_codes: vec![0, 3010],
                kind: StepKind::SetVariable {
                    variable: "V".into(),
                    value: "1".into(),
                },
            }],
        };
        round_trip(&ts);
    }
}

/// `%VAR%` expansion and the `cmd /c exit N` idiom: the text is the bytes up to the
/// first NUL, then NUL-separated name/value pairs. Expansion agrees with a plain
/// reference, leaves text alone when no variable is set, and `cmd_exit_code` gives
/// only codes Windows can report.
pub fn expand_vars(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let s = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let vars: Vec<(String, String)> = rest
        .chunks(2)
        .map(|p| {
            let name = p.first().copied().unwrap_or_default().to_string();
            let value = p.get(1).copied().unwrap_or_default().to_string();
            (name, value)
        })
        .collect();
    let none: Vec<(String, String)> = Vec::new();
    assert_eq!(expand(s, &none), s);
    assert_eq!(expand(s, &vars), expand_reference(s, &vars));
    if let Some(code) = cmd_exit_code(s) {
        assert!((i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(&code));
    }
    let _ = cmd_exit_code(&expand(s, &vars));
}

/// The plain reference for `expand`: scan characters, one variable at a time.
fn expand_reference(s: &str, vars: &[(String, String)]) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars.get(i).copied().unwrap_or_default();
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        let close = (i + 1..chars.len()).find(|&j| chars.get(j) == Some(&'%'));
        let Some(j) = close else {
            out.extend(chars.get(i..).unwrap_or_default());
            break;
        };
        let name: String = chars.get(i + 1..j).unwrap_or_default().iter().collect();
        let value = vars
            .iter()
            .rev()
            .find(|(k, _)| !name.is_empty() && k.eq_ignore_ascii_case(&name));
        match value {
            Some((_, v)) => out.push_str(v),
            None => {
                out.push('%');
                out.push_str(&name);
                out.push('%');
            }
        }
        i = j + 1;
    }
    out
}

/// Asserts the contract of a refusal: at least one diagnostic, each with a message;
/// those in the input file on a line of it (overrides are `<--set ...>`, line 0).
fn check_error(e: &InputError, file: &Path, text: &str) {
    assert!(!e.0.is_empty(), "an error without diagnostics");
    let lines = text.matches('\n').count() + 1;
    for d in &e.0 {
        assert!(!d.message.is_empty(), "empty message: {d:?}");
        if d.file == file {
            assert!(
                (1..=lines).contains(&d.line) && d.column >= 1,
                "not located in the file ({lines} lines): {d}"
            );
        }
        let _ = d.to_string();
    }
}

/// Prints, lints and round-trips a tree through the inline form.
fn round_trip(ts: &TaskSequence) {
    let _ = print::show(ts);
    let _ = lint::lint(ts, &["A"]);
    let toml = inline::to_toml(ts);
    match parse_inline(&toml) {
        Ok(back) => assert_eq!(&back, ts, "printed form reads back differently:\n{toml}"),
        Err(e) => panic!("printed form does not read back: {e:?}\n{toml}"),
    }
}

/// Reads a TOML document's `[task_sequence]` table with the inline reader.
fn parse_inline(text: &str) -> Result<TaskSequence, Vec<Diagnostic>> {
    let ctx = SourceCtx {
        file: Path::new("fuzz.toml"),
        text,
        base_dir: Path::new(NO_DIR),
        lines: None,
    };
    let doc = match DeTable::parse(text) {
        Ok(d) => d,
        Err(e) => return Err(vec![ctx.diag(e.span().unwrap_or(0..0), "", e.to_string())]),
    };
    let Some(t) = value::get(doc.get_ref(), "task_sequence") else {
        return Err(vec![ctx.diag(0..0, "task_sequence", "missing")]);
    };
    match value::table(&ctx, "task_sequence", t) {
        Ok(t) => inline::parse(&ctx, "task_sequence", t),
        Err(d) => Err(vec![d]),
    }
}

/// A cursor over the fuzzer's bytes; reads past the end give zeros.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) << 32 | u64::from(self.u32())
    }

    /// A string of up to 31 bytes (invalid UTF-8 replaced), length first.
    fn text(&mut self) -> String {
        let n = usize::from(self.u8() % 32).min(self.0.len());
        let (s, rest) = self.0.split_at(n);
        self.0 = rest;
        String::from_utf8_lossy(s).into_owned()
    }
}

/// The client a condition is evaluated on, owned so that `Machine` can borrow it.
struct MachineParts {
    flags: u8,
    pick: u8,
    language: u32,
    memory: u64,
    disk: u64,
    mhz: u32,
    model: String,
}

impl MachineParts {
    fn read(b: &mut Bytes<'_>) -> Self {
        MachineParts {
            flags: b.u8(),
            pick: b.u8(),
            language: b.u32(),
            memory: b.u64(),
            disk: b.u64(),
            mhz: b.u32(),
            model: b.text(),
        }
    }

    fn machine(&self) -> Machine<'_> {
        let os = [
            OsVersion::Win7,
            OsVersion::Win81,
            OsVersion::Win10,
            OsVersion::Server2012,
            OsVersion::Server2012R2,
        ];
        let net = [NetType::Wired, NetType::Wireless, NetType::Vpn];
        Machine {
            arch: if self.flags & 1 == 0 {
                Arch::X64
            } else {
                Arch::X86
            },
            language: self.language,
            os: os[usize::from(self.pick % 5)],
            on_battery: self.flags & 2 != 0,
            has_battery: self.flags & 4 != 0,
            network: net[usize::from(self.pick / 5 % 3)],
            model: &self.model,
            memory_bytes: self.memory,
            free_disk_bytes: self.disk,
            cpu_mhz: self.mhz,
            incompatible_app: self.flags & 8 != 0,
            incompatible_driver: self.flags & 16 != 0,
            third_party_encryption: self.flags & 32 != 0,
        }
    }
}

fn pairs(b: &mut Bytes<'_>, max: u8) -> Vec<(String, String)> {
    let n = b.u8() % (max + 1);
    (0..n).map(|_| (b.text(), b.text())).collect()
}

/// Name/value pairs with distinct names, as every reader produces them (TOML tables
/// cannot repeat a key; the XML importer keeps one value per name).
fn unique_pairs(b: &mut Bytes<'_>, max: u8) -> Vec<(String, String)> {
    let mut out = pairs(b, max);
    let mut seen = std::collections::HashSet::new();
    out.retain(|(k, _)| seen.insert(k.clone()));
    out
}

fn op(b: &mut Bytes<'_>) -> VarOp {
    VarOp::ALL[usize::from(b.u8()) % VarOp::ALL.len()]
}

/// Deepest level the builder goes to: past every cap, so the caps are exercised.
const BUILD_DEPTH: usize = 70;

fn build_condition(b: &mut Bytes<'_>, level: usize) -> Condition {
    let kind = b.u8();
    let leaf = level >= BUILD_DEPTH || b.0.is_empty();
    match kind % 11 {
        0..=2 if !leaf => {
            let n = b.u8() % 4;
            let kids = (0..n).map(|_| build_condition(b, level + 1)).collect();
            match kind % 11 {
                0 => Condition::All(kids),
                1 => Condition::Any(kids),
                _ => Condition::None(kids),
            }
        }
        3 => Condition::Wql {
            query: b.text(),
            namespace: (b.u8() % 2 == 1).then(|| b.text()),
        },
        4 => Condition::OsVersion {
            op: op(b),
            version: b.text(),
        },
        5 => Condition::File { path: b.text() },
        6 => Condition::Folder { path: b.text() },
        7 => Condition::Registry {
            key: b.text(),
            value_name: b.text(),
            op: op(b),
            data: b.text(),
        },
        8 => Condition::Software { product: b.text() },
        9 => Condition::Expression {
            expr_type: b.text(),
            properties: unique_pairs(b, 3),
        },
        _ => Condition::Variable {
            variable: b.text(),
            op: op(b),
            value: b.text(),
        },
    }
}

fn depth(c: &Condition) -> usize {
    match c {
        Condition::All(k) | Condition::Any(k) | Condition::None(k) => {
            1 + k.iter().map(depth).max().unwrap_or(0)
        }
        _ => 1,
    }
}
