//! A subset of WQL, the WMI query language of `SMS_TaskSequence_WMIConditionExpression`,
//! evaluated against a simulated WMI repository derived from the client's [`Machine`].
//!
//! Why a subset and a simulation: the simulator has no Windows to ask, but admins write
//! conditions such as the article's pre-cache example
//! `SELECT * FROM Win32_OperatingSystem WHERE OSArchitecture = '64-bit' AND Locale = '0409'`,
//! and the rollout depends on which clients they select. A query is parsed once
//! ([`Query::parse`]) and evaluated many times ([`Query::eval`]) without allocating.
//!
//! Grammar (keywords case-insensitive):
//!
//! ```text
//! query   := SELECT ( '*' | ident (',' ident)* ) FROM ident [ WHERE or ]
//! or      := and ( OR and )*
//! and     := not ( AND not )*
//! not     := NOT not | '(' or ')' | operand cmp operand
//!          | operand [NOT] LIKE operand | operand IS [NOT] NULL
//! cmp     := '=' | '<>' | '!=' | '<' | '>' | '<=' | '>='
//! operand := ident | 'string' | "string" | integer | TRUE | FALSE
//! ```
//!
//! A query is true when at least one instance of its class matches. As in WMI, string
//! comparisons ignore case and are lexicographic (so `Version >= '10'` is a string
//! comparison, exactly the trap it is on a real client); a string property compared
//! with a number is compared numerically when its text is an integer; `LIKE` takes `%`
//! (any run) and `_` (one character). An unknown class has no instances and a query
//! naming a property its class lacks returns nothing (WMI rejects it as an invalid
//! query), so both make the condition false.
//!
//! The simulated classes (every instance is derived from [`Machine`]):
//!
//! | class | instances | properties |
//! | --- | --- | --- |
//! | `Win32_OperatingSystem` | 1 | `OSArchitecture` (`"64-bit"`/`"32-bit"`), `OSLanguage` (decimal LCID), `Locale` (LCID as 4 hex digits, `"0409"`), `Version` (`"6.1.7601"`...), `BuildNumber` (`"7601"`), `ProductType` (1 workstation, 3 server), `Caption`, `TotalVisibleMemorySize` (KB), `SystemDrive` (`"C:"`) |
//! | `Win32_Battery` | 1 when `has_battery`, else 0 | `BatteryStatus` (1 on battery, 2 on AC), `Name` |
//! | `Win32_ComputerSystem` | 1 | `Model`, `Manufacturer` (first word of the model), `TotalPhysicalMemory` (bytes), `PCSystemType` (2 mobile when it has a battery, else 1 desktop) |
//! | `Win32_ComputerSystemProduct` | 1 | `Name` (the model), `Vendor` (as `Manufacturer`) |
//! | `Win32_NetworkAdapter` | 1 per adapter: wired: Ethernet; wireless: Wi-Fi; vpn: Wi-Fi and a VPN adapter | `Name`, `AdapterType` (`"Ethernet 802.3"`, `"Wireless"`, `"Wide Area Network (WAN)"`), `NetConnectionID` (`"Ethernet"`, `"Wi-Fi"`, `"VPN"`), `NetConnectionStatus` (2 connected), `NetEnabled` and `PhysicalAdapter` (booleans) |
//! | `Win32_NetworkAdapterConfiguration` | as above | `Description` (the adapter name), `IPEnabled` (TRUE), `Index` |
//! | `Win32_Processor` | 1 | `MaxClockSpeed` (MHz), `AddressWidth` and `DataWidth` (64/32 by architecture), `Architecture` (9 x64, 0 x86) |
//! | `Win32_LogicalDisk` | 1 | `DeviceID` (`"C:"`), `FreeSpace` (bytes), `DriveType` (3) |

use std::cmp::Ordering;
use std::fmt;

use super::cond::Machine;

mod parse;
mod text;
mod wmi;

pub(crate) use text::{LikePattern, cmp_ci, fold, parse_int};
pub use wmi::Class;
pub(crate) use wmi::{Buf, manufacturer};
use wmi::{Prop, Val, instances, value};

/// Deepest nesting of parentheses and `NOT` accepted, so that hostile input cannot
/// overflow the stack of the recursive-descent parser.
pub const MAX_DEPTH: usize = 256;

/// A query that does not parse, located by the 1-based character position in the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WqlError {
    /// 1-based character position of the offending token in the query.
    pub position: usize,
    /// What was found and what was expected.
    pub message: String,
}

impl fmt::Display for WqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WQL error at position {}: {}",
            self.position, self.message
        )
    }
}

impl std::error::Error for WqlError {}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn flip(self) -> Self {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }

    fn test(self, o: Ordering) -> bool {
        match self {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str { text: Box<str>, int: Option<i128> },
    Int(i128),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    // `a AND b AND c ...` as one list, not a chain of pairs: a chain is as deep as the
    // query is long, and a long query would overflow the stack when evaluated or
    // dropped (fuzz regression `wql/long-and-chain`).
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp { prop: Prop, op: CmpOp, lit: Lit },
    Like { prop: Prop, pattern: LikePattern },
    IsNull { negated: bool },
    Const(bool),
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.trim().eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.trim().eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn compare(v: &Val<'_>, lit: &Lit) -> Option<Ordering> {
    let text = match v {
        Val::Str(s) => *s,
        Val::Buf(b) => b.as_str(),
        Val::Int(a) => {
            return match lit {
                Lit::Int(b) | Lit::Str { int: Some(b), .. } => Some(a.cmp(b)),
                Lit::Bool(b) => Some(a.cmp(&i128::from(*b))),
                Lit::Str { int: None, .. } => None,
            };
        }
        Val::Bool(a) => {
            return match lit {
                Lit::Bool(b) => Some(a.cmp(b)),
                Lit::Int(b) => Some(i128::from(*a).cmp(b)),
                Lit::Str { text, .. } => parse_bool(text).map(|b| a.cmp(&b)),
            };
        }
    };
    match lit {
        Lit::Str { text: l, .. } => Some(cmp_ci(text, l)),
        Lit::Int(b) => parse_int(text).map(|a| a.cmp(b)),
        Lit::Bool(b) => parse_bool(text).map(|a| a.cmp(b)),
    }
}

fn like(v: &Val<'_>, pattern: &LikePattern) -> bool {
    use std::fmt::Write as _;
    let mut b = Buf::new();
    let text = match v {
        Val::Str(s) => *s,
        Val::Buf(x) => {
            b = *x;
            b.as_str()
        }
        Val::Int(i) => {
            // An i128 has at most 40 characters: always fits the 48-byte buffer.
            let _ = write!(b, "{i}");
            b.as_str()
        }
        Val::Bool(t) => {
            if *t {
                "TRUE"
            } else {
                "FALSE"
            }
        }
    };
    pattern.matches(text)
}

impl Expr {
    fn eval(&self, m: &Machine<'_>, row: usize) -> bool {
        match self {
            Expr::And(terms) => terms.iter().all(|e| e.eval(m, row)),
            Expr::Or(terms) => terms.iter().any(|e| e.eval(m, row)),
            Expr::Not(a) => !a.eval(m, row),
            Expr::Cmp { prop, op, lit } => {
                compare(&value(*prop, m, row), lit).is_some_and(|o| op.test(o))
            }
            Expr::Like { prop, pattern } => like(&value(*prop, m, row), pattern),
            // Every simulated property has a value.
            Expr::IsNull { negated } => *negated,
            Expr::Const(b) => *b,
        }
    }
}

/// A parsed WQL query, ready to be evaluated against any number of machines.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    class_name: String,
    class: Option<Class>,
    unknown_property: Option<String>,
    filter: Option<Expr>,
}

impl Query {
    /// Parses a query; errors give the 1-based character position of the bad token.
    pub fn parse(text: &str) -> Result<Query, WqlError> {
        parse::parse(text)
    }

    /// True when at least one instance of the class matches the `WHERE` clause.
    pub fn eval(&self, m: &Machine<'_>) -> bool {
        if self.unknown_property.is_some() {
            return false;
        }
        let Some(class) = self.class else {
            return false;
        };
        (0..instances(class, m)).any(|row| self.filter.as_ref().is_none_or(|e| e.eval(m, row)))
    }

    /// The class named in `FROM`, as written.
    pub fn class_name(&self) -> &str {
        &self.class_name
    }

    /// The simulated class named in `FROM`, if the simulator models it.
    pub fn class(&self) -> Option<Class> {
        self.class
    }

    /// Whether the class is one the simulator models (otherwise the query is always false).
    pub fn class_known(&self) -> bool {
        self.class.is_some()
    }

    /// The first property the query names that its (known) class lacks; such a query
    /// is always false. Lets `validate` point at a typo.
    pub fn unknown_property(&self) -> Option<&str> {
        self.unknown_property.as_deref()
    }
}
