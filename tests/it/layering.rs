//! The library's layers point one way (issue 14): each top-level module of `src/`
//! may name only modules of a lower layer, never one beside or above it. This test
//! reads every `crate::<module>` path (in `use` lines and inline paths alike) of each
//! module's files and fails on an arrow that points up, naming the file and line.
//! The layers are the README's "Layout of the code" and `src/lib.rs`'s module docs.

use std::path::{Path, PathBuf};

use crate::common::repo;

/// Layers, bottom up: a module may import modules of strictly lower layers.
const LAYERS: &[&[&str]] = &[
    // Foundations: time, queue and random streams; located diagnostics.
    &["engine", "diag"],
    // Fair-share network; the vocabulary the domain shares; calendar arithmetic.
    &["net", "domain", "calendar"],
    // Reading files, TOML values, units and distributions.
    &["input"],
    // The domain models.
    &["fleet", "setup", "tasksequence", "peer"],
    // The scenario reader, which composes them.
    &["scenario"],
    // The rollout simulation.
    &["sim"],
    // What a run writes.
    &["output"],
    // Reports, live load tests, many-run studies.
    &["report", "load", "study"],
    // The commands.
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Every `.rs` file of a module: `src/<m>.rs` and everything under `src/<m>/`.
fn files_of(src: &Path, module: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let single = src.join(format!("{module}.rs"));
    if single.is_file() {
        out.push(single);
    }
    let mut dirs = vec![src.join(module)];
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The modules a line names through `crate::` (`crate::a::b`, `crate::{a, b::c}`).
fn named_modules(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        // `fleetsim_crate::` or `mycrate::` are not this crate.
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// The upward arrows of one module: `file:line: a -> b`.
fn upward_arrows(src: &Path, module: &str) -> Vec<String> {
    let me = layer_of(module).expect("a known module");
    let mut bad = Vec::new();
    for f in files_of(src, module) {
        let text = std::fs::read_to_string(&f).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            // Comments and docs may mention any module; only code makes an arrow.
            if code.starts_with("//") {
                continue;
            }
            for target in named_modules(line) {
                if target == module {
                    continue;
                }
                match layer_of(&target) {
                    Some(l) if l < me => {}
                    Some(_) => bad.push(format!(
                        "{}:{}: {module} -> {target}",
                        f.strip_prefix(repo()).unwrap_or(&f).display(),
                        n + 1
                    )),
                    // A crate-root item that is not a module of the table (a macro
                    // or a function of lib.rs) is not a layer.
                    None => {}
                }
            }
        }
    }
    bad
}

#[test]
fn every_module_of_src_has_a_layer() {
    let src = repo().join("src");
    let mut missing = Vec::new();
    for e in std::fs::read_dir(&src).expect("src").flatten() {
        let p = e.path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" || name == "main" {
            continue;
        }
        if layer_of(&name).is_none() {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "modules with no layer in tests/it/layering.rs: {missing:?}"
    );
}

#[test]
fn imports_point_down_the_layers() {
    let src = repo().join("src");
    let bad: Vec<String> = LAYERS
        .iter()
        .flat_map(|l| l.iter())
        .flat_map(|m| upward_arrows(&src, m))
        .collect();
    assert!(bad.is_empty(), "imports that point up:\n{}", bad.join("\n"));
}

#[test]
fn the_engine_and_the_network_import_nothing_above_them() {
    let src = repo().join("src");
    for m in ["engine", "net"] {
        for f in files_of(&src, m) {
            let text = std::fs::read_to_string(&f).unwrap();
            for target in text.lines().flat_map(named_modules) {
                assert!(
                    target == m || target == "engine",
                    "{} names crate::{target}",
                    f.display()
                );
            }
        }
    }
}

#[test]
fn the_reader_finds_grouped_and_inline_paths() {
    assert_eq!(
        named_modules("use crate::{sim::World, output};"),
        ["sim", "output"]
    );
    assert_eq!(
        named_modules("let x = crate::scenario::load(p); crate::net::y()"),
        ["scenario", "net"]
    );
    assert!(named_modules("use fleetsim_crate::x;").is_empty());
    // An upward arrow is found in a file like any other.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("net")).unwrap();
    std::fs::write(
        dir.path().join("net/mod.rs"),
        "use crate::engine::time::SimTime;\nuse crate::sim::World;\n// crate::cli in a comment\n",
    )
    .unwrap();
    let bad = upward_arrows(dir.path(), "net");
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].ends_with("net/mod.rs:2: net -> sim"), "{bad:?}");
}
