//! `[fleet] inventory = "devices.csv"`: the real fleet, one device per row, as the
//! ConfigMgr database gives it (the README has the query that writes the file).
//!
//! The reader streams: one line at a time into a reused buffer, each value parsed
//! as it is read, so time is linear in the file and memory is the rows kept (about
//! 100 bytes a device plus its name), never the file. A line longer than
//! [`MAX_LINE`] stops the read at once (a file of garbage without line breaks is
//! refused after 64 KiB, not slurped), and so does the [`MAX_ERRORS`]th error.
//!
//! Every problem is a [`Diagnostic`] at `devices.csv:LINE:COLUMN` (column in
//! characters, of the cell's first character), naming the column and what was
//! expected.
//!
//! Units per column, as the ConfigMgr views give them (a value with a unit, such as
//! `120GB` or `8GiB`, is read with it whatever the column):
//!
//! | column | bare number means | view column |
//! | --- | --- | --- |
//! | `free_disk`, `system_drive` | MB (2^20 bytes) | `v_GS_LOGICAL_DISK.FreeSpace0`, `Size0` |
//! | `memory` | KB (2^10 bytes) | `v_GS_X86_PC_MEMORY.TotalPhysicalMemory0` |
//! | `cpu_mhz` | MHz | `v_GS_PROCESSOR.MaxClockSpeed0` |
//! | `language` | decimal LCID | `v_GS_OPERATING_SYSTEM.OSLanguage0` |
//!
//! A UTF-8 byte order mark at the start of the file is accepted: Excel's "CSV UTF-8"
//! and Windows PowerShell 5.1's `Export-Csv -Encoding UTF8` write one. UTF-16 (what
//! `Out-File` and `>` write in Windows PowerShell) is refused with what to do.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::diag::Diagnostic;
use crate::domain::{Arch, Firmware, Inventory, InventoryRow, NetType, Power};

mod cells;
use cells::{
    ascii_lower, boolean, expected, name_hash, os, size, split, subnet, text_or_empty, tpm,
};

/// Longest line read (bytes): a device row is under 1 KB.
pub const MAX_LINE: usize = 64 * 1024;

/// Errors listed before the reader stops.
pub const MAX_ERRORS: usize = 20;

/// Most devices an inventory may list (a client id is 32 bits).
pub const MAX_ROWS: u64 = u32::MAX as u64;

/// The columns, case-insensitive in the header.
pub const COLUMNS: &[&str] = &[
    "name",
    "site",
    "subnet",
    "architecture",
    "language",
    "os",
    "model",
    "free_disk",
    "memory",
    "cpu_mhz",
    "network",
    "power",
    "power_schedule",
    "tpm",
    "firmware",
    "cpu_supported",
    "system_drive",
    "incompatible_app",
    "incompatible_driver",
    "third_party_encryption",
];

/// Reads an inventory file; `sites` are the scenario's site names (the `site`
/// column names one of them, case-insensitive).
pub fn read(path: &Path, sites: &[&str]) -> Result<Inventory, Vec<Diagnostic>> {
    let f = std::fs::File::open(path).map_err(|e| {
        vec![Diagnostic {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("cannot read the inventory: {e}"),
        }]
    })?;
    read_from(BufReader::with_capacity(1 << 16, f), path, sites)
}

/// [`read`] from any reader (tests, benchmarks); `path` names it in messages.
pub fn read_from<R: Read>(
    reader: BufReader<R>,
    path: &Path,
    sites: &[&str],
) -> Result<Inventory, Vec<Diagnostic>> {
    let mut r = Reader {
        path,
        sites,
        errors: Vec::new(),
        inv: Inventory {
            path: path.to_path_buf(),
            ..Inventory::default()
        },
        seen: HashMap::new(),
        collided: HashMap::new(),
        model_ix: HashMap::new(),
        subnet_ix: HashMap::new(),
        columns: Vec::new(),
    };
    r.run(reader);
    if r.errors.is_empty() {
        Ok(r.inv)
    } else {
        Err(r.errors)
    }
}

struct Reader<'a> {
    path: &'a Path,
    sites: &'a [&'a str],
    errors: Vec<Diagnostic>,
    inv: Inventory,
    /// Hash of a lower-cased name -> the first row with that hash.
    seen: HashMap<u64, u32>,
    /// Further rows whose name's hash collided with an earlier, different name
    /// (compared by name; empty in practice).
    collided: HashMap<u64, Vec<u32>>,
    model_ix: HashMap<String, u16>,
    subnet_ix: HashMap<String, u32>,
    /// The header's columns, by position (index into [`COLUMNS`]).
    columns: Vec<usize>,
}

impl Reader<'_> {
    fn err(&mut self, line: usize, text: &str, byte: usize, key: &str, message: String) {
        let column = text.get(..byte).map_or(byte, |s| s.chars().count()) + 1;
        self.errors.push(Diagnostic {
            file: self.path.to_path_buf(),
            line,
            column,
            key: key.to_string(),
            message,
        });
    }

    fn full(&self) -> bool {
        self.errors.len() >= MAX_ERRORS
    }

    fn run<R: Read>(&mut self, reader: BufReader<R>) {
        let mut reader = reader;
        let mut buf: Vec<u8> = Vec::with_capacity(1024);
        let mut line_no = 0usize;
        let mut header = true;
        loop {
            buf.clear();
            let n = match (&mut reader)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut buf)
            {
                Ok(n) => n,
                Err(e) => {
                    self.err(
                        line_no + 1,
                        "",
                        0,
                        "",
                        format!("cannot read the inventory: {e}"),
                    );
                    return;
                }
            };
            if n == 0 {
                break;
            }
            line_no += 1;
            if buf.len() > MAX_LINE && buf.last() != Some(&b'\n') {
                self.err(
                    line_no,
                    "",
                    MAX_LINE,
                    "",
                    format!(
                        "line longer than {MAX_LINE} bytes, expected one device per line \
                         (is this a CSV inventory?); nothing further was read"
                    ),
                );
                return;
            }
            let mut bytes: &[u8] = &buf;
            if line_no == 1 {
                if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
                    self.err(
                        1,
                        "",
                        0,
                        "",
                        "UTF-16 text (byte order mark FF FE), expected UTF-8: save it with \
                         Export-Csv -Encoding UTF8, or as \"CSV UTF-8\" in Excel"
                            .into(),
                    );
                    return;
                }
                bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            }
            while let Some((b'\n' | b'\r', rest)) = bytes.split_last() {
                bytes = rest;
            }
            let text = match std::str::from_utf8(bytes) {
                Ok(t) => t,
                Err(e) => {
                    let good = e.valid_up_to();
                    let prefix = String::from_utf8_lossy(bytes.get(..good).unwrap_or_default());
                    let bad = bytes.get(good).copied().unwrap_or(0);
                    self.err(
                        line_no,
                        &prefix,
                        prefix.len(),
                        "",
                        format!("invalid UTF-8 (byte 0x{bad:02X}), expected a UTF-8 CSV file"),
                    );
                    if self.full() {
                        return;
                    }
                    continue;
                }
            };
            if text.contains('\u{feff}') {
                let at = text.find('\u{feff}').unwrap_or(0);
                self.err(
                    line_no,
                    text,
                    at,
                    "",
                    "a byte order mark inside the file (two files pasted together?), \
                     expected one only at the very start"
                        .into(),
                );
            } else if text.trim().is_empty() {
                // Blank lines (a trailing one is common) hold no device.
            } else if header {
                header = false;
                self.header(line_no, text);
                if !self.errors.is_empty() {
                    return;
                }
            } else {
                self.row(line_no, text);
            }
            if self.full() {
                let more = format!("stopped after {MAX_ERRORS} errors; fix these first");
                self.err(line_no, text_or_empty(&buf), 0, "", more);
                return;
            }
        }
        if header && self.errors.is_empty() {
            self.err(
                line_no.max(1),
                "",
                0,
                "",
                "empty inventory, expected a header row with a `name` column, then one row per device"
                    .into(),
            );
        } else if self.inv.is_empty() && self.errors.is_empty() {
            self.err(
                line_no.max(1),
                "",
                0,
                "",
                "no device rows after the header".into(),
            );
        }
    }

    fn header(&mut self, line: usize, text: &str) {
        let cells = match split(text) {
            Ok(c) => c,
            Err((at, m)) => {
                self.err(line, text, at, "", m);
                return;
            }
        };
        let mut seen = vec![false; COLUMNS.len()];
        for c in &cells {
            let name = c.text.trim().to_ascii_lowercase();
            match COLUMNS.iter().position(|&k| k == name) {
                Some(i) if seen.get(i).copied().unwrap_or(false) => {
                    self.err(line, text, c.start, &name, "the same column twice".into());
                }
                Some(i) => {
                    if let Some(s) = seen.get_mut(i) {
                        *s = true;
                    }
                    self.columns.push(i);
                }
                None => {
                    let m = format!(
                        "unknown column {:?}, expected one of: {}",
                        c.text.trim(),
                        COLUMNS.join(", ")
                    );
                    self.err(line, text, c.start, "", m);
                }
            }
        }
        if !seen.first().copied().unwrap_or(false) && self.errors.is_empty() {
            self.err(
                line,
                text,
                0,
                "name",
                "no `name` column, expected one with each device's name".into(),
            );
        }
    }

    fn row(&mut self, line: usize, text: &str) {
        let cells = match split(text) {
            Ok(c) => c,
            Err((at, m)) => {
                self.err(line, text, at, "", m);
                return;
            }
        };
        if cells.len() != self.columns.len() {
            let at = cells
                .get(self.columns.len())
                .map_or(text.len(), |c| c.start);
            let m = format!(
                "{} cells, expected {} (one per column of the header)",
                cells.len(),
                self.columns.len()
            );
            self.err(line, text, at, "", m);
            return;
        }
        if self.inv.rows.len() as u64 >= MAX_ROWS {
            self.err(line, text, 0, "", format!("more than {MAX_ROWS} devices"));
            return;
        }
        let mut row = InventoryRow::default();
        let mut name = None;
        for (k, cell) in cells.iter().enumerate() {
            let col = self.columns.get(k).copied().unwrap_or(usize::MAX);
            let key = COLUMNS.get(col).copied().unwrap_or("");
            let v = cell.text.trim();
            if key == "name" {
                name = Some((v, cell.start));
                continue;
            }
            if v.is_empty() {
                continue; // not known for this device: drawn from the weights
            }
            if let Err(m) = self.value(&mut row, key, v) {
                self.err(line, text, cell.start, key, m);
            }
        }
        let Some((name, at)) = name else { return };
        if name.is_empty() {
            self.err(
                line,
                text,
                at,
                "name",
                "empty name, expected the device's name".into(),
            );
            return;
        }
        let hash = name_hash(name);
        if let Some(first) = self.duplicate(hash, name) {
            let m = format!("duplicate name {name:?}, first on row {}", first + 1);
            self.err(line, text, at, "name", m);
            return;
        }
        let row_ix = self.inv.rows.len() as u32;
        match self.seen.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(row_ix);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collided.entry(hash).or_default().push(row_ix);
            }
        }
        self.inv.names.push_str(name);
        self.inv.name_ends.push(self.inv.names.len() as u32);
        self.inv.rows.push(row);
        if self.inv.names.len() > u32::MAX as usize / 2 {
            self.err(
                line,
                text,
                0,
                "name",
                "device names add up to more than 2 GB".into(),
            );
        }
    }

    /// The earlier row with the same name (names are case-insensitive, as NetBIOS
    /// names are); `hash` is [`name_hash`] of `name`.
    fn duplicate(&self, hash: u64, name: &str) -> Option<u32> {
        let first = *self.seen.get(&hash)?;
        let lower = name.to_lowercase();
        std::iter::once(first)
            .chain(self.collided.get(&hash).into_iter().flatten().copied())
            .find(|&i| self.inv.name(i as usize).to_lowercase() == lower)
    }

    fn value(&mut self, row: &mut InventoryRow, key: &str, v: &str) -> Result<(), String> {
        let mut buf = [0u8; 40];
        let l = ascii_lower(v, &mut buf);
        match key {
            "site" => {
                let i = self
                    .sites
                    .iter()
                    .position(|s| s.eq_ignore_ascii_case(v))
                    .ok_or_else(|| {
                        format!(
                            "unknown site {v:?}, expected one of the scenario's [[sites]]: {}",
                            self.sites.join(", ")
                        )
                    })?;
                row.site = Some(i as u16);
            }
            "subnet" => {
                subnet(v)?;
                let next = self.inv.subnets.len() as u32;
                let i = *self.subnet_ix.entry(v.to_string()).or_insert(next);
                if i == next {
                    self.inv.subnets.push(v.to_string());
                }
                row.subnet = Some(i);
            }
            "architecture" => {
                row.arch = Some(match l {
                    "x64" | "64-bit" | "64 bits" | "amd64" | "x86_64" | "64" => Arch::X64,
                    "x86" | "32-bit" | "32 bits" | "32" => Arch::X86,
                    _ => return Err(expected(v, "x64, x86, 64-bit or 32-bit")),
                });
            }
            "language" => {
                let lcid: u32 = (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| v.parse().ok())
                    .flatten()
                    .ok_or_else(|| expected(v, "a decimal LCID such as 1033"))?;
                let i = match self.inv.languages.iter().position(|&x| x == lcid) {
                    Some(i) => i,
                    None if self.inv.languages.len() < 256 => {
                        self.inv.languages.push(lcid);
                        self.inv.languages.len() - 1
                    }
                    None => return Err("more than 256 distinct languages".into()),
                };
                row.language = Some(i as u8);
            }
            "os" => row.os = Some(os(v)?),
            "model" => {
                let i = match self.model_ix.get(v) {
                    Some(&i) => i,
                    None if self.inv.models.len() < usize::from(u16::MAX) => {
                        let i = self.inv.models.len() as u16;
                        self.inv.models.push(v.to_string());
                        self.model_ix.insert(v.to_string(), i);
                        i
                    }
                    None => return Err("more than 65535 distinct models".into()),
                };
                row.model = Some(i);
            }
            "free_disk" => row.free_disk = Some(size(v, 1_048_576.0, "MB")?),
            "system_drive" => row.system_drive = Some(size(v, 1_048_576.0, "MB")?),
            "memory" => row.memory = Some(size(v, 1024.0, "KB")?),
            "cpu_mhz" => {
                let mhz: u32 = v
                    .parse()
                    .map_err(|_| expected(v, "a whole number of MHz such as 2400"))?;
                row.cpu_mhz = Some(mhz);
            }
            "network" => {
                row.network = Some(match l {
                    "wired" => NetType::Wired,
                    "wireless" => NetType::Wireless,
                    "vpn" => NetType::Vpn,
                    _ => return Err(expected(v, "wired, wireless or vpn")),
                });
            }
            "power" => {
                row.power = Some(match l {
                    "ac" => Power::Ac,
                    "battery" => Power::Battery,
                    _ => return Err(expected(v, "ac or battery")),
                });
            }
            "power_schedule" => {
                return Err(
                    "power schedules need the calendar, which this build does not model; \
                     leave the cells empty"
                        .into(),
                );
            }
            "tpm" => row.tpm = Some(tpm(v)?),
            "firmware" => {
                row.firmware = Some(match l {
                    "uefi_secure_boot" => Firmware::UefiSecureBoot,
                    "uefi" => Firmware::Uefi,
                    "bios" => Firmware::Bios,
                    _ => return Err(expected(v, "uefi_secure_boot, uefi or bios")),
                });
            }
            "cpu_supported" => row.cpu_supported = Some(boolean(v)?),
            "incompatible_app" => row.incompatible_app = Some(boolean(v)?),
            "incompatible_driver" => row.incompatible_driver = Some(boolean(v)?),
            "third_party_encryption" => row.third_party_encryption = Some(boolean(v)?),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
