//! The task sequence as a tree: the one form that inline TOML, the built-in templates
//! and imported ConfigMgr XML all become, and that the interpreter compiles.
//!
//! It mirrors the ConfigMgr object model (groups and steps with conditions, options
//! and per-type properties) rather than the simulator's needs, so that `ts import`
//! can print an export faithfully and `ts show` can display what the admin wrote.

use crate::domain::{Dist, UpdatesMode};

/// Most retries a step may have (`retry_count`, `retryCount`). Each retry is at least
/// one event at the same instant when the step takes no time, so an unbounded count
/// could hold the simulated clock still for hours of wall time; no export we have
/// seen retries a step more than a handful of times. The readers refuse more with a
/// located error (issue 13: 65,536 used to wrap a 16-bit counter and loop forever).
pub const MAX_RETRY_COUNT: u32 = 65_535;

/// A whole task sequence.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskSequence {
    /// Display name (from the export or the scenario).
    pub name: String,
    /// Task sequence variables set before the first step (`[task_sequence.variables]`,
    /// or the export's `<globalVarList>`), in order.
    pub variables: Vec<(String, String)>,
    /// Top-level groups and steps, in order.
    pub steps: Vec<Node>,
}

/// One group or step with the options every ConfigMgr step has.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Name shown in the editor.
    pub name: String,
    /// Description, if any.
    pub description: String,
    /// Runs only when true; `None` means always.
    pub condition: Option<Condition>,
    /// On failure, carry on with the next step (ConfigMgr "Continue on error").
    pub continue_on_error: bool,
    /// Skipped entirely (`disable="true"`).
    pub disabled: bool,
    /// Extra attempts after a failure (`retryCount`), at most [`MAX_RETRY_COUNT`].
    pub retry_count: u32,
    /// Exit codes that mean success (`successCodeList`, default `[0, 3010]`).
    pub success_codes: Vec<i64>,
    /// What it does.
    pub kind: StepKind,
}

impl Node {
    /// A node with default options.
    pub fn new(name: impl Into<String>, kind: StepKind) -> Self {
        Node {
            name: name.into(),
            description: String::new(),
            condition: None,
            continue_on_error: false,
            disabled: false,
            retry_count: 0,
            success_codes: vec![0, 3010],
            kind,
        }
    }
}

/// The kinds of groups and steps.
#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// A group of steps.
    Group {
        /// Children, in order.
        steps: Vec<Node>,
    },
    /// Download Package Content.
    Download {
        /// Content ids, in order.
        content: Vec<String>,
        /// Output variable base name: paths land in `<variable>01`, `<variable>02`...
        variable: Option<String>,
    },
    /// Run Command Line (or Run PowerShell Script when `powershell`).
    Run {
        /// Command line (`cmd /c exit %VAR%` returns the expanded number).
        command: Option<String>,
        /// Run PowerShell Script rather than Run Command Line.
        powershell: bool,
        /// Package the command runs from, downloaded first (content id).
        package: Option<String>,
        /// How long it runs; `None` uses `[setup] default_step`.
        duration: Option<Dist>,
        /// Weighted exit codes `(code, weight)`; empty means always 0.
        exit_codes: Vec<(i64, f64)>,
        /// PowerShell output variable, if any.
        output_variable: Option<String>,
    },
    /// Check Readiness. Each `Some` is an enabled check with its threshold.
    CheckReadiness(CheckReadiness),
    /// Set Task Sequence Variable.
    SetVariable {
        /// Variable name.
        variable: String,
        /// Value (`%VAR%` is expanded when the step runs).
        value: String,
    },
    /// Set Dynamic Variables: each rule sets its variables when its condition holds.
    SetDynamicVariables {
        /// `(condition, variables)` rules in order; `None` condition always applies.
        rules: Vec<Rule>,
    },
    /// Upgrade Operating System.
    UpgradeOs(UpgradeOs),
    /// Install Application.
    InstallApplications {
        /// Application content ids, in order.
        applications: Vec<String>,
        /// Carry on with the next application when one fails.
        continue_on_error_per_app: bool,
    },
    /// Install Package (a classic package and program).
    InstallPackage {
        /// Package content id.
        package: String,
        /// Program name.
        program: String,
    },
    /// Install Software Updates.
    InstallUpdates {
        /// Which updates.
        mode: UpdatesMode,
    },
    /// Restart Computer.
    Restart {
        /// How long the restart takes; `None` uses the Windows Setup `restart` phase.
        duration: Option<Dist>,
    },
    /// A recommended Prepare for Upgrade action (uninstall or suspend something).
    Remove {
        /// What it removes.
        what: RemoveWhat,
    },
    /// Run another task sequence (by package id).
    SubTaskSequence {
        /// Package id of the child task sequence.
        package: String,
        /// Its steps, when known (inline or resolved); otherwise it is timed only.
        steps: Vec<Node>,
    },
    /// Any other ConfigMgr step type: it runs for a duration and succeeds
    /// (`validate` lists these as "timed only").
    Timed {
        /// The XML type (`SMS_TaskSequence_ApplyDataImageAction`...).
        step_type: String,
        /// How long it runs; `None` uses `[setup] default_step`.
        duration: Option<Dist>,
        /// The step's properties as exported, kept for `ts import` round trips.
        properties: Vec<(String, String)>,
    },
}

/// One Set Dynamic Variables rule: when the condition holds (`None`: always), set
/// these variables, in order.
pub type Rule = (Option<Condition>, Vec<(String, String)>);

/// Check Readiness settings (`SMS_TaskSequence_PrestartCheckAction`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckReadiness {
    /// Minimum free disk in MB; `Some(0)` is "enabled with the article's recommendation"
    /// (20480 MB x64, 16384 MB x86).
    pub free_disk_mb: Option<u64>,
    /// Minimum memory in MB.
    pub memory_mb: Option<u64>,
    /// Minimum processor speed in MHz.
    pub processor_mhz: Option<u64>,
    /// Require AC power.
    pub require_ac: bool,
    /// Require a wired network.
    pub require_wired: bool,
    /// Require a network connection.
    pub require_network: bool,
    /// Required OS type (`CLIENT` or `SERVER`).
    pub os_type: Option<String>,
    /// Required OS architecture (`32` / `64`).
    pub os_architecture: Option<String>,
    /// Required OS language (decimal LCID).
    pub os_language: Option<u32>,
    /// "Computer is in UEFI mode" (ConfigMgr 2010; XML property `CheckDeviceUEFI`).
    pub uefi: bool,
    /// "TPM 2.0 or above is enabled" (ConfigMgr 2111; `CheckTpmEnabled`).
    pub tpm_enabled: bool,
    /// "TPM 2.0 or above is activated" (ConfigMgr 2111; `CheckTpmActivated`).
    pub tpm_activated: bool,
}

/// Upgrade Operating System settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpgradeOs {
    /// Candidate OS upgrade packages; the client uses the one matching its
    /// architecture and language (or the first when only one is listed).
    pub content: Vec<String>,
    /// "Perform Windows Setup compatibility scan without starting upgrade".
    pub scan_only: bool,
    /// "Ignore any dismissable compatibility messages".
    pub ignore_dismissable: bool,
    /// Extra Windows Setup options (appended to `OSDSetupAdditionalUpgradeOptions`).
    pub additional_options: Option<String>,
    /// Edition index (default 1).
    pub edition_index: u32,
    /// Product key, if any (five dash-separated groups of five when not encoded).
    pub product_key: Option<String>,
    /// Dynamic update setting as exported.
    pub dynamic_update: Option<String>,
    /// Staged driver content ids.
    pub driver_content: Vec<String>,
}

/// What a `remove` step removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveWhat {
    /// Applications that block setup (prevents 0xC1900208).
    IncompatibleApps,
    /// Drivers that make setup roll back (prevents 0xC1900101).
    IncompatibleDrivers,
    /// Third-party security software (suspends it for the upgrade).
    ThirdPartySecurity,
}

/// Variable comparison operators (case-insensitive in both TOML and XML).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarOp {
    /// The variable is set.
    Exists,
    /// The variable is not set.
    NotExists,
    /// Equal (numeric when both sides are numbers, else case-insensitive text).
    Equals,
    /// Not equal.
    NotEquals,
    /// Less than.
    Less,
    /// Less or equal.
    LessEqual,
    /// Greater than.
    Greater,
    /// Greater or equal.
    GreaterEqual,
    /// SQL-style pattern (`%` any run, `_` one character).
    Like,
}

impl VarOp {
    /// Every operator, in the order ConfigMgr's editor lists them.
    pub const ALL: [VarOp; 9] = [
        VarOp::Exists,
        VarOp::NotExists,
        VarOp::Equals,
        VarOp::NotEquals,
        VarOp::Less,
        VarOp::LessEqual,
        VarOp::Greater,
        VarOp::GreaterEqual,
        VarOp::Like,
    ];

    /// Reads an operator name ignoring case, because real exports write `notequals`
    /// as often as `notEquals`; `nonExists` (the registry condition's spelling) is
    /// accepted for `notExists`.
    pub fn parse(s: &str) -> Option<VarOp> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("nonExists") {
            return Some(VarOp::NotExists);
        }
        VarOp::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(s))
    }

    /// The canonical spelling, as ConfigMgr's documentation writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            VarOp::Exists => "exists",
            VarOp::NotExists => "notExists",
            VarOp::Equals => "equals",
            VarOp::NotEquals => "notEquals",
            VarOp::Less => "less",
            VarOp::LessEqual => "lessEqual",
            VarOp::Greater => "greater",
            VarOp::GreaterEqual => "greaterEqual",
            VarOp::Like => "like",
        }
    }
}

/// A condition tree, as in `<condition>` of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Task sequence variable test.
    Variable {
        /// Name (case-insensitive).
        variable: String,
        /// Operator.
        op: VarOp,
        /// Right-hand side (ignored by exists / notExists).
        value: String,
    },
    /// WMI query: true when it returns rows.
    Wql {
        /// The query.
        query: String,
        /// WMI namespace (default `root\cimv2`).
        namespace: Option<String>,
    },
    /// All must hold (`<operator type="and">`).
    All(Vec<Condition>),
    /// At least one holds (`<operator type="or">`).
    Any(Vec<Condition>),
    /// None holds (`<operator type="not">`).
    None(Vec<Condition>),
    /// Operating system version test.
    OsVersion {
        /// Operator on the version.
        op: VarOp,
        /// Version such as `10.0.17763` or `6.1.7601`.
        version: String,
    },
    /// A file exists (optionally with a version/date test).
    File {
        /// Path.
        path: String,
    },
    /// A folder exists.
    Folder {
        /// Path.
        path: String,
    },
    /// A registry value test.
    Registry {
        /// Key path.
        key: String,
        /// Value name.
        value_name: String,
        /// Operator.
        op: VarOp,
        /// Data to compare.
        data: String,
    },
    /// Installed software (by product code or name).
    Software {
        /// Product code or name.
        product: String,
    },
    /// Any other condition expression of an export, kept as written so that an import
    /// never drops a condition: Set Dynamic Variables' rules use
    /// `SMS_TaskSequence_ComputerConditionExpression` (AssetTag, MACAddress,
    /// SerialNumber, UUID) and make/model or location rules; see `cond` for how the
    /// simulator evaluates them.
    Expression {
        /// The XML expression type (`SMS_TaskSequence_ComputerConditionExpression`...).
        expr_type: String,
        /// Its `<variable name="...">` values, in order.
        properties: Vec<(String, String)>,
    },
}
