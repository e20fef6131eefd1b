//! Step conditions: compiled once per task sequence, evaluated per client per step.
//!
//! The interpreter asks "does this step run on this client now?" millions of times in a
//! large rollout, so [`CompiledCondition::compile`] does all parsing up front (WQL
//! queries, `LIKE` patterns, numbers on the right-hand side, registry paths) and
//! [`CompiledCondition::eval`] walks the compiled tree without allocating.
//!
//! # Semantics
//!
//! - Variables: names are case-insensitive (the [`Vars`] implementer resolves them). An
//!   unset variable compares as the empty string; `exists` is true when it is set,
//!   even to the empty string. Comparisons are numeric when both sides are decimal
//!   integers (128-bit, so return codes such as 3247440400 that exceed `i32` compare
//!   as numbers), otherwise case-insensitive and lexicographic. `like` takes `%` (any
//!   run) and `_` (one character), ignoring case.
//! - WQL: see [`super::wql`]; a namespace other than `root\cimv2` has no classes here.
//! - OS version: dotted versions compare numerically part by part (`6.1.7601` <
//!   `10.0`); the client's version comes from [`os_facts`].
//! - Files: the simulator knows no file, so a file condition is false.
//! - Folders: the standard Windows folders exist (`C:\`, `C:\Windows`,
//!   `C:\Windows\System32`, `C:\Program Files`, `C:\ProgramData`, `C:\Users`, and on
//!   x64 `C:\Program Files (x86)` and `C:\Windows\SysWOW64`), written literally or
//!   with `%SystemDrive%`, `%SystemRoot%`, `%windir%`, `%ProgramFiles%`,
//!   `%ProgramFiles(x86)%`, `%ProgramData%`; any other folder does not.
//! - Registry: `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion` holds
//!   `CurrentVersion`, `CurrentBuild`, `CurrentBuildNumber`, `ProductName`,
//!   `InstallationType` (`Client`/`Server`) and, on Windows 10, `CurrentMajorVersionNumber`;
//!   `HKLM\SYSTEM\CurrentControlSet\Control\Nls\Language` holds `InstallLanguage` (the
//!   LCID as 4 hex digits). An empty value name tests the key itself. Values compare
//!   like variables.
//! - Software: the one product the simulator knows is the application that blocks
//!   setup, so a software condition is true exactly on clients with
//!   `incompatible_app`.
//! - Other expressions ([`Condition::Expression`]): a rule with `Model` (and optionally
//!   `Make`) properties is true when they equal the client's model (and its first
//!   word, the vendor), ignoring case; every other kind (computer identity, location)
//!   is false, since no simulated client has an asset tag, MAC address or gateway.

use std::cmp::Ordering;
use std::fmt::Write as _;

use super::tree::{Condition, VarOp};
use super::wql::{self, Buf, LikePattern, Query, cmp_ci, fold, parse_int};
use crate::domain::{Arch, NetType, OsVersion};

/// Deepest condition nesting accepted (deeper trees are refused rather than risking
/// the stack on evaluation); twice what the readers accept, for trees built in code.
pub const MAX_DEPTH: usize = 64;

/// Task sequence variables as a condition sees them.
///
/// Variable names are case-insensitive in ConfigMgr (`_SMSTSSetupRollback` and
/// `_smstssetuprollback` are one variable): implementers must look names up ignoring
/// ASCII case.
pub trait Vars {
    /// The value of a variable, if it is set.
    fn get(&self, name: &str) -> Option<&str>;
}

fn lookup<'a, K: AsRef<str> + 'a, V: AsRef<str> + 'a>(
    pairs: impl DoubleEndedIterator<Item = &'a (K, V)>,
    name: &str,
) -> Option<&'a str> {
    pairs
        .rev()
        .find(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_ref())
}

/// Name/value pairs; the last pair with a name wins, as successive assignments would.
impl Vars for [(String, String)] {
    fn get(&self, name: &str) -> Option<&str> {
        lookup(self.iter(), name)
    }
}

impl Vars for &[(String, String)] {
    fn get(&self, name: &str) -> Option<&str> {
        lookup(self.iter(), name)
    }
}

impl Vars for Vec<(String, String)> {
    fn get(&self, name: &str) -> Option<&str> {
        lookup(self.iter(), name)
    }
}

impl Vars for &[(&str, &str)] {
    fn get(&self, name: &str) -> Option<&str> {
        lookup(self.iter(), name)
    }
}

impl<const N: usize> Vars for [(&str, &str); N] {
    fn get(&self, name: &str) -> Option<&str> {
        lookup(self.iter(), name)
    }
}

/// The client's simulated hardware and OS: the source of every WMI, registry and
/// OS-version fact a condition can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine<'a> {
    /// OS architecture.
    pub arch: Arch,
    /// OS language, decimal LCID.
    pub language: u32,
    /// OS before the upgrade.
    pub os: OsVersion,
    /// Running on battery now.
    pub on_battery: bool,
    /// Has a battery at all (laptops); `Win32_Battery` has an instance only then.
    pub has_battery: bool,
    /// Network connection.
    pub network: NetType,
    /// Hardware model (`Win32_ComputerSystemProduct.Name`).
    pub model: &'a str,
    /// Physical memory, bytes.
    pub memory_bytes: u64,
    /// Free space on C:, bytes.
    pub free_disk_bytes: u64,
    /// Processor speed, MHz.
    pub cpu_mhz: u32,
    /// Has the application that blocks setup.
    pub incompatible_app: bool,
    /// Has the driver that makes setup roll back.
    pub incompatible_driver: bool,
    /// Has third-party disk encryption.
    pub third_party_encryption: bool,
}

/// What Windows reports about an OS version, in one place for WMI, the registry and
/// OS-version conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OsFacts {
    /// `Win32_OperatingSystem.Version`.
    pub version: &'static str,
    /// `Win32_OperatingSystem.BuildNumber`.
    pub build: &'static str,
    /// `Win32_OperatingSystem.Caption`.
    pub caption: &'static str,
    /// `Win32_OperatingSystem.ProductType`: 1 workstation, 3 server.
    pub product_type: u32,
    /// Registry `CurrentVersion` (Windows 10 still reports 6.3 there).
    pub current_version: &'static str,
}

/// Facts of each OS. Windows 10 is taken at build 17763 (version 1809), the
/// long-term servicing build that feature-update rollouts commonly start from.
pub fn os_facts(os: OsVersion) -> OsFacts {
    let (version, build, caption, product_type, current_version) = match os {
        OsVersion::Win7 => (
            "6.1.7601",
            "7601",
            "Microsoft Windows 7 Enterprise",
            1,
            "6.1",
        ),
        OsVersion::Win81 => (
            "6.3.9600",
            "9600",
            "Microsoft Windows 8.1 Enterprise",
            1,
            "6.3",
        ),
        OsVersion::Win10 => (
            "10.0.17763",
            "17763",
            "Microsoft Windows 10 Enterprise",
            1,
            "6.3",
        ),
        OsVersion::Server2012 => (
            "6.2.9200",
            "9200",
            "Microsoft Windows Server 2012 Standard",
            3,
            "6.2",
        ),
        OsVersion::Server2012R2 => (
            "6.3.9600",
            "9600",
            "Microsoft Windows Server 2012 R2 Standard",
            3,
            "6.3",
        ),
    };
    OsFacts {
        version,
        build,
        caption,
        product_type,
        current_version,
    }
}

/// The right-hand side of a comparison, pre-parsed.
#[derive(Debug, Clone, PartialEq)]
struct Rhs {
    text: Box<str>,
    int: Option<i128>,
    like: Option<LikePattern>,
}

impl Rhs {
    fn new(text: &str, op: VarOp) -> Self {
        Rhs {
            text: text.into(),
            int: parse_int(text),
            like: (op == VarOp::Like).then(|| LikePattern::new(text)),
        }
    }

    /// Applies `op` with `lhs` on the left; `None` is an unset variable or value.
    fn test(&self, op: VarOp, lhs: Option<&str>) -> bool {
        let l = lhs.unwrap_or("");
        let ord = || match (parse_int(l), self.int) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => cmp_ci(l, &self.text),
        };
        match op {
            VarOp::Exists => lhs.is_some(),
            VarOp::NotExists => lhs.is_none(),
            VarOp::Like => self.like.as_ref().is_some_and(|p| p.matches(l)),
            VarOp::Equals => ord() == Ordering::Equal,
            VarOp::NotEquals => ord() != Ordering::Equal,
            VarOp::Less => ord() == Ordering::Less,
            VarOp::LessEqual => ord() != Ordering::Greater,
            VarOp::Greater => ord() == Ordering::Greater,
            VarOp::GreaterEqual => ord() != Ordering::Less,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegValue {
    CurrentVersion,
    CurrentBuild,
    ProductName,
    InstallationType,
    MajorVersion,
    InstallLanguage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegTarget {
    /// A value the simulated registry may hold.
    Value(RegValue),
    /// A key that exists (tested with an empty value name), or an existing key's
    /// value that does not exist.
    Key(bool),
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Const(bool),
    Var {
        name: Box<str>,
        op: VarOp,
        rhs: Rhs,
    },
    Wql(Box<Query>),
    All(Vec<Node>),
    Any(Vec<Node>),
    None(Vec<Node>),
    OsVersion {
        op: VarOp,
        parts: [u64; 4],
        rhs: Rhs,
    },
    Folder {
        x64_only: bool,
    },
    Registry {
        target: RegTarget,
        op: VarOp,
        rhs: Rhs,
    },
    Software,
    MakeModel {
        make: Option<Box<str>>,
        model: Option<Box<str>>,
    },
}

/// A condition ready to be evaluated: see the module documentation for semantics.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledCondition {
    root: Node,
}

impl CompiledCondition {
    /// Compiles a condition tree. Errors (a WQL query that does not parse, an OS version
    /// that is not dotted numbers, nesting deeper than [`MAX_DEPTH`]) say which part of
    /// the condition is wrong.
    pub fn compile(c: &Condition) -> Result<Self, String> {
        Ok(CompiledCondition {
            root: compile(c, 0)?,
        })
    }

    /// Whether the condition holds on this client with these variables.
    pub fn eval(&self, m: &Machine<'_>, vars: &dyn Vars) -> bool {
        eval(&self.root, m, vars)
    }
}

/// Parses `10.0.17763` into numeric parts (missing parts are 0); `None` unless the
/// text is 1 to 4 dot-separated decimal numbers.
pub fn parse_version(s: &str) -> Option<[u64; 4]> {
    let mut parts = [0u64; 4];
    for (n, p) in s.trim().split('.').enumerate() {
        let slot = parts.get_mut(n)?;
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = p.parse().ok()?;
    }
    Some(parts)
}

fn compile(c: &Condition, depth: usize) -> Result<Node, String> {
    if depth >= MAX_DEPTH {
        return Err(format!("condition nested deeper than {MAX_DEPTH} levels"));
    }
    let list = |cs: &[Condition]| -> Result<Vec<Node>, String> {
        cs.iter().map(|c| compile(c, depth + 1)).collect()
    };
    Ok(match c {
        Condition::Variable {
            variable,
            op,
            value,
        } => Node::Var {
            name: variable.as_str().into(),
            op: *op,
            rhs: Rhs::new(value, *op),
        },
        Condition::Wql { query, namespace } => {
            let q = Query::parse(query).map_err(|e| format!("{e} in {query:?}"))?;
            if namespace.as_deref().is_some_and(|ns| !is_cimv2(ns)) {
                Node::Const(false)
            } else {
                Node::Wql(Box::new(q))
            }
        }
        Condition::All(cs) => Node::All(list(cs)?),
        Condition::Any(cs) => Node::Any(list(cs)?),
        Condition::None(cs) => Node::None(list(cs)?),
        Condition::OsVersion { op, version } => {
            let parts = match op {
                VarOp::Exists | VarOp::NotExists | VarOp::Like => [0; 4],
                _ => parse_version(version).ok_or_else(|| {
                    format!("OS version {version:?} is not a dotted version such as \"10.0.17763\"")
                })?,
            };
            Node::OsVersion {
                op: *op,
                parts,
                rhs: Rhs::new(version, *op),
            }
        }
        Condition::File { .. } => Node::Const(false),
        Condition::Folder { path } => match standard_folder(path) {
            Some(x64_only) => Node::Folder { x64_only },
            None => Node::Const(false),
        },
        Condition::Registry {
            key,
            value_name,
            op,
            data,
        } => Node::Registry {
            target: registry_target(key, value_name),
            op: *op,
            rhs: Rhs::new(data, *op),
        },
        Condition::Software { .. } => Node::Software,
        Condition::Expression { properties, .. } => {
            let find = |names: &[&str]| {
                properties
                    .iter()
                    .find(|(k, v)| names.iter().any(|n| k.eq_ignore_ascii_case(n)) && !v.is_empty())
                    .map(|(_, v)| Box::<str>::from(v.as_str()))
            };
            let model = find(&["Model"]);
            let make = find(&["Make", "Manufacturer"]);
            if model.is_none() && make.is_none() {
                Node::Const(false)
            } else {
                Node::MakeModel { make, model }
            }
        }
    })
}

fn is_cimv2(ns: &str) -> bool {
    let n = ns.trim().replace('/', "\\");
    let n = n.trim_start_matches('\\');
    let n = n.strip_prefix(".\\").unwrap_or(n);
    n.eq_ignore_ascii_case("root\\cimv2")
}

/// Lower-cases, turns `/` into `\`, expands the well-known folder variables and drops
/// a trailing `\`.
fn normalize_path(p: &str) -> String {
    let mut s: String = p
        .trim()
        .chars()
        .map(fold)
        .collect::<String>()
        .replace('/', "\\");
    for (var, val) in [
        ("%systemdrive%", "c:"),
        ("%systemroot%", "c:\\windows"),
        ("%windir%", "c:\\windows"),
        ("%programfiles(x86)%", "c:\\program files (x86)"),
        ("%programfiles%", "c:\\program files"),
        ("%programdata%", "c:\\programdata"),
    ] {
        s = s.replace(var, val);
    }
    while s.len() > 3 && s.ends_with('\\') {
        s.pop();
    }
    s
}

/// `Some(x64_only)` for a standard folder.
fn standard_folder(path: &str) -> Option<bool> {
    match normalize_path(path).as_str() {
        "c:"
        | "c:\\"
        | "c:\\windows"
        | "c:\\windows\\system32"
        | "c:\\program files"
        | "c:\\programdata"
        | "c:\\users" => Some(false),
        "c:\\program files (x86)" | "c:\\windows\\syswow64" => Some(true),
        _ => None,
    }
}

const CURRENT_VERSION_KEY: &str = "hklm\\software\\microsoft\\windows nt\\currentversion";
const LANGUAGE_KEY: &str = "hklm\\system\\currentcontrolset\\control\\nls\\language";

fn registry_target(key: &str, value_name: &str) -> RegTarget {
    let mut k = normalize_path(key);
    for (long, short) in [("hkey_local_machine", "hklm"), ("hklm:", "hklm")] {
        if let Some(rest) = k.strip_prefix(long) {
            k = format!("{short}{rest}");
        }
    }
    let k = k.trim_end_matches('\\');
    let v = value_name.trim();
    let is = |name: &str| v.eq_ignore_ascii_case(name);
    let is_ancestor = |full: &str| {
        full.strip_prefix(k)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('\\'))
    };
    if k == CURRENT_VERSION_KEY {
        let value = if is("CurrentVersion") {
            RegValue::CurrentVersion
        } else if is("CurrentBuild") || is("CurrentBuildNumber") {
            RegValue::CurrentBuild
        } else if is("ProductName") {
            RegValue::ProductName
        } else if is("InstallationType") {
            RegValue::InstallationType
        } else if is("CurrentMajorVersionNumber") {
            RegValue::MajorVersion
        } else {
            return RegTarget::Key(v.is_empty());
        };
        RegTarget::Value(value)
    } else if k == LANGUAGE_KEY && is("InstallLanguage") {
        RegTarget::Value(RegValue::InstallLanguage)
    } else {
        RegTarget::Key(
            v.is_empty() && (is_ancestor(CURRENT_VERSION_KEY) || is_ancestor(LANGUAGE_KEY)),
        )
    }
}

/// The registry value's data on this client, `None` when the value does not exist.
fn registry_value(v: RegValue, m: &Machine<'_>) -> Option<Buf> {
    let os = os_facts(m.os);
    let mut b = Buf::new();
    // Every value written here is far shorter than the buffer.
    let _ = match v {
        RegValue::CurrentVersion => b.write_str(os.current_version),
        RegValue::CurrentBuild => b.write_str(os.build),
        RegValue::ProductName => {
            b.write_str(os.caption.strip_prefix("Microsoft ").unwrap_or(os.caption))
        }
        RegValue::InstallationType => b.write_str(if os.product_type == 3 {
            "Server"
        } else {
            "Client"
        }),
        RegValue::MajorVersion => {
            if m.os != OsVersion::Win10 {
                return None;
            }
            b.write_str("10")
        }
        RegValue::InstallLanguage => write!(b, "{:04X}", m.language),
    };
    Some(b)
}

fn eval(n: &Node, m: &Machine<'_>, vars: &dyn Vars) -> bool {
    match n {
        Node::Const(b) => *b,
        Node::Var { name, op, rhs } => rhs.test(*op, vars.get(name)),
        Node::Wql(q) => q.eval(m),
        Node::All(cs) => cs.iter().all(|c| eval(c, m, vars)),
        Node::Any(cs) => cs.iter().any(|c| eval(c, m, vars)),
        Node::None(cs) => !cs.iter().any(|c| eval(c, m, vars)),
        Node::OsVersion { op, parts, rhs } => {
            let text = os_facts(m.os).version;
            match op {
                VarOp::Exists => true,
                VarOp::NotExists => false,
                VarOp::Like => rhs.test(*op, Some(text)),
                _ => {
                    let mine = parse_version(text).unwrap_or([0; 4]);
                    let ord = mine.cmp(parts);
                    match op {
                        VarOp::Equals => ord == Ordering::Equal,
                        VarOp::NotEquals => ord != Ordering::Equal,
                        VarOp::Less => ord == Ordering::Less,
                        VarOp::LessEqual => ord != Ordering::Greater,
                        VarOp::Greater => ord == Ordering::Greater,
                        _ => ord != Ordering::Less,
                    }
                }
            }
        }
        Node::Folder { x64_only } => !x64_only || m.arch == Arch::X64,
        Node::Registry { target, op, rhs } => match target {
            RegTarget::Key(exists) => match op {
                VarOp::Exists => *exists,
                VarOp::NotExists => !*exists,
                _ => false,
            },
            RegTarget::Value(v) => match registry_value(*v, m) {
                Some(b) => rhs.test(*op, Some(b.as_str())),
                None => *op == VarOp::NotExists,
            },
        },
        Node::Software => m.incompatible_app,
        Node::MakeModel { make, model } => {
            model
                .as_deref()
                .is_none_or(|x| x.eq_ignore_ascii_case(m.model.trim()))
                && make
                    .as_deref()
                    .is_none_or(|x| x.eq_ignore_ascii_case(wql::manufacturer(m.model)))
        }
    }
}
