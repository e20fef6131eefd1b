//! The reading pipeline: text -> TOML tree -> overrides -> every section read and
//! checked (all errors collected) -> task sequence -> cross-references -> [`Scenario`].

use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::content::{ContentList, read_content};
use super::defaults::{self, MAX_HORIZON};
use super::deployment::{read_client, read_deployment};
use super::fields::{self, Section};
use super::fleet::{attach_inventory, read_fleet, read_network};
use super::model::{
    Calendar, ClientSettings, Deployment, Fleet, NetworkCaps, Scenario, SetupModel, Simulation,
};
use super::overrides;
use super::setup::read_setup;
use super::source::{self, Buffer};
use super::tasksequence::{check_content_refs, read_task_sequence};
use super::topology::{Topology, read_topology};
use super::value::{self, SourceCtx};
use crate::diag::{Diagnostic, InputError, LineIndex};

const TOP_KEYS: &[&str] = &[
    "name",
    "simulation",
    "fleet",
    "network",
    "sites",
    "distribution_points",
    "content",
    "deployment",
    "client",
    "setup",
    "task_sequence",
    "power_schedules",
    "maintenance_windows",
    "targets",
];

/// Everything in a scenario but the task sequence: what the section readers produce,
/// testable without a task sequence.
pub(crate) struct Parts {
    /// `name`.
    pub name: String,
    /// `[simulation]`.
    pub simulation: Simulation,
    /// `[fleet]`.
    pub fleet: Fleet,
    /// `[network]`.
    pub network: NetworkCaps,
    /// `[[sites]]` and `[[distribution_points]]`.
    pub topology: Topology,
    /// `[[content]]`.
    pub content: ContentList,
    /// `[deployment]`.
    pub deployment: Deployment,
    /// `[client]`.
    pub client: ClientSettings,
    /// `[setup]`.
    pub setup: SetupModel,
    /// The calendar keys of every section.
    pub calendar: Calendar,
}

/// The name a scenario gets when it has no `name`: the file stem.
fn default_name(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "scenario".to_string())
}

/// `name` names the output folder, so it must be usable as one.
fn scenario_name(
    ctx: &SourceCtx<'_>,
    key: &str,
    v: &Spanned<DeValue<'_>>,
) -> Result<String, Diagnostic> {
    let s = value::string(ctx, key, v)?;
    let bad = s.trim().is_empty()
        || s == "."
        || s == ".."
        || s.chars().any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        Err(ctx.diag(
            v.span(),
            key,
            format!("found {s:?}, expected a name usable as a folder name (no slashes, not empty)"),
        ))
    } else {
        Ok(s)
    }
}

fn read_simulation(
    ctx: &SourceCtx<'_>,
    v: Option<&Spanned<DeValue<'_>>>,
    errors: &mut Vec<Diagnostic>,
) -> Simulation {
    let mut sim = defaults::simulation();
    let Some(v) = v else { return sim };
    let s = match Section::new(ctx, "simulation", v) {
        Ok(s) => s,
        Err(d) => {
            errors.push(d);
            return sim;
        }
    };
    s.check_keys(&["seed", "horizon", "bandwidth_interval", "start"], errors);
    let max_seed = i128::from(u64::MAX);
    sim.seed = s.or(
        "seed",
        sim.seed,
        &|c, k, v| fields::int_in(c, k, v, 0, max_seed),
        errors,
    );
    let before = errors.len();
    let horizon = s.opt(
        "horizon",
        &|c, k, v| {
            let h = fields::positive_duration(c, k, v)?;
            if h > MAX_HORIZON {
                Err(c.diag(
                    v.span(),
                    k,
                    "horizon is longer than 10 years, expected at most \"3650d\"",
                ))
            } else {
                Ok(h)
            }
        },
        errors,
    );
    sim.horizon = horizon.unwrap_or(sim.horizon);
    let horizon_ok = errors.len() == before;
    let interval = s.opt("bandwidth_interval", &fields::positive_duration, errors);
    if let (Some(b), Some(bv)) = (interval, s.get("bandwidth_interval")) {
        // Compared only with a valid horizon: one mistake gives one message.
        if b > sim.horizon && horizon_ok {
            errors.push(ctx.diag(
                bv.span(),
                &s.key("bandwidth_interval"),
                "bandwidth_interval is longer than the horizon, expected at most the horizon",
            ));
        }
        sim.bandwidth_interval = b;
    }
    sim
}

/// Reads every section but the task sequence from the document root.
pub(crate) fn read_parts(
    ctx: &SourceCtx<'_>,
    root: &DeTable<'_>,
    fallback_name: &str,
    errors: &mut Vec<Diagnostic>,
) -> Parts {
    value::check_keys(ctx, "", root, TOP_KEYS, errors);
    let get = |k: &str| value::get(root, k);
    let name = get("name")
        .and_then(|v| match scenario_name(ctx, "name", v) {
            Ok(n) => Some(n),
            Err(d) => {
                errors.push(d);
                None
            }
        })
        .unwrap_or_else(|| fallback_name.to_string());
    let before = errors.len();
    let simulation = read_simulation(ctx, get("simulation"), errors);
    let simulation_ok = errors.len() == before;
    let mut fleet = read_fleet(ctx, get("fleet"), errors);
    let network = read_network(ctx, get("network"), errors);
    let topology = read_topology(ctx, get("sites"), get("distribution_points"), errors);
    let site_names: Vec<&str> = topology.sites.iter().map(|s| s.name.as_str()).collect();
    attach_inventory(ctx, get("fleet"), &site_names, &mut fleet, errors);
    super::topology::check_source_ids(ctx, get("sites"), fleet.clients, errors);
    if simulation_ok {
        check_bandwidth_rows(ctx, get("simulation"), &simulation, &topology, errors);
    }
    let mut calendar = Calendar::new(topology.sites.len(), super::calendar::default_bits());
    super::calendar::read_start(ctx, get("simulation"), &mut calendar, errors);
    super::calendar::read_offsets(ctx, get("sites"), &mut calendar, errors);
    super::calendar::read_power(
        ctx,
        get("power_schedules"),
        get("fleet"),
        &mut calendar,
        errors,
    );
    let site_names: Vec<String> = topology.sites.iter().map(|x| x.name.clone()).collect();
    super::calendar::read_windows(
        ctx,
        get("maintenance_windows"),
        &site_names,
        &mut calendar,
        errors,
    );
    let client_table = get("client").and_then(|v| match v.get_ref() {
        DeValue::Table(t) => Some(t),
        _ => None,
    });
    super::calendar::read_bits(ctx, client_table, &mut calendar, errors);
    Parts {
        calendar,
        name,
        simulation,
        fleet,
        network,
        topology,
        content: read_content(ctx, get("content"), errors),
        deployment: read_deployment(ctx, get("deployment"), errors),
        client: read_client(ctx, get("client"), errors),
        setup: read_setup(ctx, get("setup"), errors),
    }
}

/// Most rows `bandwidth.csv` may get: one per `bandwidth_interval` of the horizon and
/// link (DP or site). The run holds them in memory; a day at 1 ms on one DP is 86
/// million rows, which aborted the run for lack of memory
/// (`tests/data/scenarios/bad/bandwidth-interval-too-fine.toml`). Ten years at the
/// default 60 s on one DP is 5.3 million.
pub(crate) const MAX_BANDWIDTH_ROWS: u128 = 10_000_000;

/// Refuses a horizon and `bandwidth_interval` whose `bandwidth.csv` would exceed
/// [`MAX_BANDWIDTH_ROWS`], naming the shortest interval that fits.
fn check_bandwidth_rows(
    ctx: &SourceCtx<'_>,
    v: Option<&Spanned<DeValue<'_>>>,
    sim: &Simulation,
    topology: &Topology,
    errors: &mut Vec<Diagnostic>,
) {
    let links = (topology.distribution_points.len() + topology.sites.len()).max(1) as u128;
    let interval = u128::from(sim.bandwidth_interval.max(1));
    let horizon = u128::from(sim.horizon);
    let rows = horizon.div_ceil(interval).saturating_mul(links);
    if rows <= MAX_BANDWIDTH_ROWS {
        return;
    }
    let shortest_s = (horizon.saturating_mul(links)).div_ceil(MAX_BANDWIDTH_ROWS * 1_000_000);
    let (span, key) = match v.map(|v| (v, v.get_ref())) {
        Some((t, DeValue::Table(table))) => match value::get(table, "bandwidth_interval") {
            Some(b) => (b.span(), "simulation.bandwidth_interval"),
            None => (t.span(), "simulation"),
        },
        _ => (0..0, "simulation.bandwidth_interval"),
    };
    errors.push(ctx.diag(
        span,
        key,
        format!(
            "bandwidth.csv would get {rows} rows ({links} link(s), one row per \
             bandwidth_interval of the horizon), expected at most {MAX_BANDWIDTH_ROWS}: \
             use a bandwidth_interval of at least \"{shortest_s}s\" or a shorter horizon"
        ),
    ));
}

/// The root table of a parsed document (or of the buffer's tree after overrides).
fn root_table<'a, 'i>(v: &'a DeValue<'i>) -> Option<&'a DeTable<'i>> {
    match v {
        DeValue::Table(t) => Some(t),
        _ => None,
    }
}

/// Parses the file part of `buf` and applies the overrides. `Err` holds syntax
/// errors (nothing else can be checked in a document that does not parse).
pub(crate) fn tree<'b>(
    file: &Path,
    buf: &'b Buffer,
    errors: &mut Vec<Diagnostic>,
) -> Result<DeValue<'b>, Vec<Diagnostic>> {
    let text = buf.file_text();
    let (doc, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        // Recovery after one mistake can cascade along its line (an unclosed array
        // reports every element after it); the first error of each line is the one
        // that means something.
        let lines = LineIndex::new(text);
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<Diagnostic> = Vec::new();
        for e in &syntax {
            let d = source::syntax_error(file, text, &lines, e);
            if seen.insert(d.line) {
                out.push(d);
            }
        }
        return Err(out);
    }
    let mut root = DeValue::Table(doc.into_inner());
    for slot in &buf.slots {
        let v = overrides::value_at(&buf.text, slot.range.clone());
        if let Err(m) = overrides::apply(&mut root, &slot.ov.path, v, slot.range.clone()) {
            errors.push(overrides::override_diag(&slot.ov.raw, &slot.ov.key, m));
        }
    }
    Ok(root)
}

/// The whole pipeline; `source` is recorded in the scenario.
pub(crate) fn load_text(
    text: &str,
    file: &Path,
    base_dir: &Path,
    overrides: &[String],
    source: Option<&Path>,
) -> Result<Scenario, InputError> {
    let (buf, mut errors) = Buffer::new(source::strip_bom(text), overrides);
    let root = match tree(file, &buf, &mut errors) {
        Ok(root) => root,
        Err(mut syntax) => {
            syntax.append(&mut errors);
            return Err(buf.finish(file, syntax));
        }
    };
    let Some(root) = root_table(&root) else {
        errors.push(Diagnostic::at_offset(
            file,
            text,
            0,
            "",
            "expected a TOML document",
        ));
        return Err(buf.finish(file, errors));
    };
    let lines = LineIndex::new(&buf.text);
    let ctx = SourceCtx {
        file,
        text: &buf.text,
        base_dir,
        lines: Some(&lines),
    };
    let parts = read_parts(&ctx, root, &default_name(file), &mut errors);
    let targets = super::targets::read_targets(&ctx, value::get(root, "targets"), &mut errors);
    let notes = super::check::raw_notes(&ctx, root, &mut errors);
    let ts_value = value::get(root, "task_sequence");
    let ts = read_task_sequence(&ctx, ts_value, &mut errors);
    if let Some(ts) = &ts {
        check_content_refs(&ctx, &ts.0, &parts.content.ids, ts_value, &mut errors);
        super::content::check_win11_template(&ctx, ts_value, &parts.content.items, &mut errors);
    }
    match ts {
        Some(task_sequence) if errors.is_empty() => Ok(Scenario {
            name: parts.name,
            source: source.map(Path::to_path_buf),
            simulation: parts.simulation,
            fleet: parts.fleet,
            network: parts.network,
            sites: parts.topology.sites,
            distribution_points: parts.topology.distribution_points,
            content: parts.content.items,
            deployment: parts.deployment,
            client: parts.client,
            task_sequence: task_sequence.0,
            setup: parts.setup,
            step_overrides: task_sequence.1,
            calendar: parts.calendar,
            targets,
            overrides: overrides.to_vec(),
            notes,
        }),
        _ => {
            if errors.is_empty() {
                errors.push(ctx.diag(0..0, "task_sequence", "no task sequence could be read"));
            }
            Err(buf.finish(file, errors))
        }
    }
}
