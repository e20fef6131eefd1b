//! Every run writes `plots/` in SVG and PNG; the files parse, are not blank, carry
//! their axis labels and series names, and are the same for the same seed.

use std::collections::HashSet;
use std::path::Path;

use crate::common::*;

pub const CHARTS: [&str; 5] = [
    "completions",
    "bandwidth",
    "connections",
    "latency",
    "failures",
];

/// A small required deployment with a deadline, failures and two sites.
pub fn small_run(out: &Path, seed: u64) {
    let sc = repo().join("scenarios/precache.toml");
    ok(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--seed",
        &seed.to_string(),
        "--set",
        "fleet.clients=3000",
        "--set",
        "deployment.purpose=required",
        "--set",
        "deployment.deadline=5d",
    ]);
}

/// Decodes a PNG into (width, height, RGBA pixels).
pub fn decode_png(path: &Path) -> (u32, u32, Vec<[u8; 4]>) {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut dec = png::Decoder::new(std::io::BufReader::new(f));
    dec.set_transformations(png::Transformations::EXPAND);
    let mut reader = dec.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    let bytes = &buf[..info.buffer_size()];
    let px: Vec<[u8; 4]> = match info.color_type {
        png::ColorType::Rgb => bytes.chunks(3).map(|c| [c[0], c[1], c[2], 255]).collect(),
        png::ColorType::Rgba => bytes.chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect(),
        png::ColorType::Grayscale => bytes.iter().map(|&g| [g, g, g, 255]).collect(),
        png::ColorType::GrayscaleAlpha => {
            bytes.chunks(2).map(|c| [c[0], c[0], c[0], c[1]]).collect()
        }
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    (info.width, info.height, px)
}

/// Text content of an SVG (all `<text>` elements), after checking it parses.
pub fn svg_texts(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not valid SVG/XML: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn run_writes_every_chart_as_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    small_run(&out, 7);
    for c in CHARTS {
        let png = out.join("plots").join(format!("{c}.png"));
        let (w, h, px) = decode_png(&png);
        assert!(w >= 800 && h >= 300, "{c}.png is {w}x{h}");
        let colours: HashSet<[u8; 4]> = px.iter().copied().collect();
        assert!(
            colours.len() > 16,
            "{c}.png has only {} colours",
            colours.len()
        );
        // The title row holds dark text pixels: text rendered with the bundled font.
        let title_dark = px
            .iter()
            .take((w * 32) as usize)
            .filter(|p| (p[0] as u32 + p[1] as u32 + p[2] as u32) < 200)
            .count();
        assert!(
            title_dark > 150,
            "{c}.png title has {title_dark} dark pixels"
        );
    }
    let texts = |c: &str| svg_texts(&out.join("plots").join(format!("{c}.svg")));
    let t = texts("completions");
    for want in [
        "succeeded",
        "rolled back",
        "failed",
        "deadline",
        "95% of the fleet",
        "time since start (days)",
        "task sequences ended (cumulative)",
    ] {
        assert!(t.contains(want), "completions.svg lacks {want:?}:\n{t}");
    }
    let t = texts("bandwidth");
    for want in [
        "DP-HQ-1",
        "DP-HQ-2",
        "DP-LYON",
        "wan:Lyon",
        "wan:Munich",
        "capacity (total) 45 Gbps",
        "Gbps",
        "WAN link wan:Lyon",
    ] {
        assert!(t.contains(want), "bandwidth.svg lacks {want:?}:\n{t}");
    }
    let t = texts("connections");
    for want in [
        "DP-HQ-1",
        "downloads in progress",
        "waiting for a connection",
        "downloads",
    ] {
        assert!(t.contains(want), "connections.svg lacks {want:?}:\n{t}");
    }
    let t = texts("latency");
    for want in [
        "percentile",
        "latency (log scale)",
        "90%",
        "99%",
        "download",
        "task_sequence",
        "time_to_compliance",
    ] {
        assert!(t.contains(want), "latency.svg lacks {want:?}:\n{t}");
    }
    let t = texts("failures");
    let failures = csv_rows(&out.join("failures.csv"));
    assert!(!failures.is_empty(), "the scenario should produce failures");
    for f in failures {
        assert!(
            t.contains(&f["code_hex"]),
            "failures.svg lacks {}:\n{t}",
            f["code_hex"]
        );
        assert!(
            t.contains(&f["phase"]),
            "failures.svg lacks {}:\n{t}",
            f["phase"]
        );
    }
    assert!(t.contains("clients"));
}

#[test]
fn plots_are_identical_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    small_run(&a, 3);
    small_run(&b, 3);
    for c in CHARTS {
        for ext in ["svg", "png"] {
            let f = format!("plots/{c}.{ext}");
            assert!(
                std::fs::read(a.join(&f)).unwrap() == std::fs::read(b.join(&f)).unwrap(),
                "{f} differs between identical runs"
            );
        }
    }
    for f in ["timeline.csv", "links.csv", "marks.csv"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn timeline_counts_every_ended_task_sequence_and_links_carry_capacities() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    small_run(&out, 11);
    let s = summary(&out);
    let o = &s["outcomes"];
    let rows = csv_rows(&out.join("timeline.csv"));
    let sum = |k: &str| {
        rows.iter()
            .map(|r| r[k].parse::<u64>().unwrap())
            .sum::<u64>()
    };
    assert_eq!(sum("succeeded"), o["succeeded"].as_u64().unwrap());
    assert_eq!(sum("rolled_back"), o["rolled_back"].as_u64().unwrap());
    assert_eq!(sum("failed"), o["failed"].as_u64().unwrap());
    // Same buckets as bandwidth.csv.
    let bw: HashSet<String> = csv_rows(&out.join("bandwidth.csv"))
        .into_iter()
        .map(|r| r["time_s"].clone())
        .collect();
    let tl: HashSet<String> = rows.iter().map(|r| r["time_s"].clone()).collect();
    assert_eq!(bw, tl);
    let links = csv_rows(&out.join("links.csv"));
    let cap = |n: &str| {
        links
            .iter()
            .find(|l| l["link"] == n)
            .map(|l| (l["kind"].clone(), l["capacity_bps"].clone()))
            .unwrap()
    };
    assert_eq!(cap("DP-LYON"), ("dp".into(), "5000000000".into()));
    assert_eq!(cap("wan:Munich"), ("wan".into(), "2000000000".into()));
    let marks = std::fs::read_to_string(out.join("marks.csv")).unwrap();
    assert!(marks.contains("deadline,432000"), "{marks}");
    assert!(marks.contains("interval,600"), "{marks}");
}
