//! Plots fit what they show: one total capacity over the stacked DPs, each WAN link
//! on its own panel and scale, count axes ticked on whole numbers only, and time
//! buckets of round widths named "per hour", "per 10 min" (issue 15).

use std::collections::HashMap;
use std::path::Path;

use crate::common::*;
use crate::plots::{small_run, svg_texts};

/// The group widths an axis may name after "per".
const LADDER: [&str; 17] = [
    "second", "5 s", "10 s", "30 s", "minute", "5 min", "10 min", "15 min", "30 min", "hour",
    "2 h", "3 h", "6 h", "12 h", "day", "2 days", "week",
];

/// Tick labels of one kind of axis, one list per axis in drawing order. Plotters
/// writes y ticks right-aligned beside the axis (`text-anchor="end"`, `dy="0.5ex"`)
/// bottom to top, and x ticks centred under it (`text-anchor="middle"`,
/// `dy="0.76em"`) left to right; a label that goes back down (or left) starts the
/// next axis.
fn ticks(path: &Path, y_axis: bool) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let (anchor, dy, coord) = if y_axis {
        ("end", "0.5ex", "y")
    } else {
        ("middle", "0.76em", "x")
    };
    let mut axes: Vec<Vec<String>> = Vec::new();
    let mut last: Option<f64> = None;
    for n in doc.descendants().filter(|n| n.has_tag_name("text")) {
        let label = n.text().unwrap_or("").trim().to_string();
        let numeric = !label.is_empty()
            && label
                .chars()
                .all(|c| c.is_ascii_digit() || ",.-".contains(c));
        if n.attribute("text-anchor") != Some(anchor) || n.attribute("dy") != Some(dy) || !numeric {
            continue;
        }
        let at: f64 = n.attribute(coord).unwrap().parse().unwrap();
        // y ticks climb (y falls), x ticks go right (x grows).
        let goes_on = last.is_some_and(|l| if y_axis { at < l } else { at > l });
        if !goes_on {
            axes.push(Vec::new());
        }
        if let Some(a) = axes.last_mut() {
            a.push(label);
        }
        last = Some(at);
    }
    axes
}

/// Every tick label of every axis is a whole number, and each axis's labels rise
/// (a 0.5 tick written "1" beside a 1 tick fails).
fn assert_whole_ticks(path: &Path, y_axis: bool) {
    let axes = ticks(path, y_axis);
    assert!(!axes.is_empty(), "{}: no tick labels found", path.display());
    for axis in axes {
        let values: Vec<i64> = axis
            .iter()
            .map(|l| {
                l.replace(',', "")
                    .parse::<i64>()
                    .unwrap_or_else(|_| panic!("{}: count tick {l:?} is not whole", path.display()))
            })
            .collect();
        assert!(
            values.windows(2).all(|w| w[0] < w[1]),
            "{}: count ticks {axis:?} repeat or fall",
            path.display()
        );
    }
}

#[test]
fn each_wan_link_has_its_own_panel_and_the_dps_one_total_capacity() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    small_run(&out, 5);
    let svg = out.join("plots/bandwidth.svg");
    let texts: Vec<String> = svg_texts(&svg).lines().map(str::to_string).collect();
    let links = csv_rows(&out.join("links.csv"));
    let count = |pred: &dyn Fn(&str) -> bool| texts.iter().filter(|t| pred(t)).count();

    // One capacity line for the stack: the sum of the DPs' capacities, in Gbps.
    let total: f64 = links
        .iter()
        .filter(|l| l["kind"] == "dp")
        .map(|l| l["capacity_bps"].parse::<f64>().unwrap())
        .sum();
    let totals: Vec<&String> = texts
        .iter()
        .filter(|t| t.contains("capacity (total)"))
        .collect();
    assert_eq!(totals.len(), 1, "{texts:?}");
    assert_eq!(
        totals[0].as_str(),
        format!("capacity (total) {} Gbps", total / 1e9)
    );
    for l in links.iter().filter(|l| l["kind"] == "dp") {
        let name = l["link"].as_str();
        assert_eq!(count(&|t| t.contains(&format!("{name} capacity"))), 0);
    }

    // One panel per WAN link, named, with its own capacity line and y axis.
    let wans: HashMap<String, f64> = links
        .iter()
        .filter(|l| l["kind"] == "wan")
        .map(|l| (l["link"].clone(), l["capacity_bps"].parse().unwrap()))
        .collect();
    assert_eq!(wans.len(), 2, "the scenario has two WAN sites");
    for name in wans.keys() {
        let panel = format!("WAN link {name} (mean rate per ");
        assert_eq!(count(&|t| t.starts_with(&panel)), 1, "{panel}: {texts:?}");
        assert_eq!(
            count(&|t| t.starts_with(&format!("{name} capacity "))),
            1,
            "{texts:?}"
        );
    }
    let axes = ticks(&svg, true);
    assert_eq!(axes.len(), 1 + wans.len(), "{axes:?}");
    // Each WAN axis ends near its own link's scale (1 and 2 Gbps), far under the
    // 45 Gbps of the DPs' axis.
    let top = |a: &Vec<String>| a.last().unwrap().parse::<f64>().unwrap();
    for wan_axis in &axes[1..] {
        assert!(top(wan_axis) <= 2.5, "{axes:?}");
    }
    assert!(top(&axes[0]) >= total / 1e9, "{axes:?}");
}

#[test]
fn count_axes_tick_on_whole_numbers_only() {
    // Six clients, most incompatible: axes of 0 to a few, where a default axis puts
    // ticks at 0.5.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let sc = repo().join("scenarios/precache.toml");
    run_file(
        &sc,
        &out,
        &[
            "--set",
            "fleet.clients=6",
            "--set",
            "fleet.incompatible_app=0.5",
            "--set",
            "deployment.purpose=required",
            "--set",
            "deployment.deadline=5d",
        ],
    );
    let plots = out.join("plots");
    assert_whole_ticks(&plots.join("completions.svg"), true);
    assert_whole_ticks(&plots.join("connections.svg"), true);
    assert_whole_ticks(&plots.join("failures.svg"), false);
}

#[test]
fn time_buckets_are_round_widths_from_the_ladder() {
    // 5-minute buckets over days: 600 groups would be some multiple of 5 minutes
    // ("per 35m"); the ladder makes them 30 minutes or an hour.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let sc = repo().join("scenarios/quickstart.toml");
    run_file(&sc, &out, &["--set", "fleet.clients=300"]);
    let all: String = ["completions", "bandwidth", "connections"]
        .iter()
        .map(|c| svg_texts(&out.join(format!("plots/{c}.svg"))))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(all.contains("ended per "), "{all}");
    let mut named = 0;
    for t in all.lines() {
        for marker in ["ended per ", "mean rate per ", ", per "] {
            if let Some((_, rest)) = t.split_once(marker) {
                let width = rest.trim_end_matches(')');
                assert!(
                    LADDER.contains(&width),
                    "{t:?}: {width:?} is off the ladder"
                );
                named += 1;
            }
        }
    }
    // completions (1), bandwidth (DP and two WAN panels' "mean rate"), connections (2).
    assert!(named >= 4, "{all}");
}
