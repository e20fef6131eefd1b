//! The inventory reader: values, units, and every kind of bad input located.

use std::io::BufReader;
use std::path::Path;

use super::*;
use crate::domain::{OsVersion, Tpm};

fn read_str(text: &[u8]) -> Result<Inventory, Vec<Diagnostic>> {
    read_from(
        BufReader::new(text),
        Path::new("devices.csv"),
        &["HQ", "Lyon"],
    )
}

fn err(text: &[u8]) -> Diagnostic {
    let e = read_str(text).expect_err("bad input");
    e.into_iter().next().expect("one error")
}

#[test]
fn reads_every_column_with_the_views_units() {
    let text = b"Name,Site,Architecture,Language,OS,Model,Free_Disk,Memory,CPU_MHz,Network,Power,\
TPM,Firmware,CPU_Supported,System_Drive,Incompatible_App,Subnet\n\
PC-001,hq,64-bit,1033,10.0.19045,HP EliteBook 840 G8,51200,8388608,2400,wired,ac,\"2.0, 0, 1.38\",uefi_secure_boot,true,244198,0,10.1.2.0/24\n\
PC-002,Lyon,x86,1031,6.1.7601,Latitude 7490,120GB,4GiB,1800,vpn,battery,1.2,bios,false,\"64 GB\",1,\n";
    let inv = read_str(text).expect("valid");
    assert_eq!(inv.len(), 2);
    assert_eq!((inv.name(0), inv.name(1)), ("PC-001", "PC-002"));
    let (a, b) = (inv.rows[0], inv.rows[1]);
    assert_eq!(a.site, Some(0));
    assert_eq!(b.site, Some(1));
    assert_eq!((a.arch, b.arch), (Some(Arch::X64), Some(Arch::X86)));
    assert_eq!(inv.languages, vec![1033, 1031]);
    assert_eq!(
        (a.os, b.os),
        (Some(OsVersion::Win10), Some(OsVersion::Win7))
    );
    assert_eq!(inv.models, vec!["HP EliteBook 840 G8", "Latitude 7490"]);
    // Bare numbers in the views' units: MB for disks, KB for memory.
    assert_eq!(a.free_disk, Some(51_200 * 1_048_576));
    assert_eq!(a.memory, Some(8 << 30));
    assert_eq!(a.system_drive, Some(244_198 * 1_048_576));
    // With a unit, as written.
    assert_eq!(b.free_disk, Some(120_000_000_000));
    assert_eq!(b.memory, Some(4 << 30));
    assert_eq!(b.system_drive, Some(64_000_000_000));
    assert_eq!((a.cpu_mhz, b.cpu_mhz), (Some(2400), Some(1800)));
    assert_eq!((a.tpm, b.tpm), (Some(Tpm::V20), Some(Tpm::V12)));
    assert_eq!(
        (a.firmware, b.firmware),
        (Some(Firmware::UefiSecureBoot), Some(Firmware::Bios))
    );
    assert_eq!(
        (a.cpu_supported, b.cpu_supported),
        (Some(true), Some(false))
    );
    assert_eq!(
        (a.incompatible_app, b.incompatible_app),
        (Some(false), Some(true))
    );
    assert_eq!(
        (a.network, b.power),
        (Some(NetType::Wired), Some(Power::Battery))
    );
}

#[test]
fn empty_cells_and_missing_columns_are_left_to_the_weights() {
    let inv = read_str(b"name,tpm\r\nA,\r\nB,none\r\n\r\n").expect("valid");
    assert_eq!(inv.rows[0].tpm, None);
    assert_eq!(inv.rows[1].tpm, Some(Tpm::None));
    assert_eq!(inv.rows[0].memory, None);
}

#[test]
fn a_utf8_bom_at_the_start_is_accepted() {
    let inv = read_str(b"\xEF\xBB\xBFname,tpm\nA,2.0\n").expect("BOM accepted");
    assert_eq!(inv.name(0), "A");
}

#[test]
fn each_bad_input_is_located() {
    let cases: &[(&[u8], usize, usize, &str)] = &[
        (
            b"name,tpm\nA,3.5\n",
            2,
            3,
            "found \"3.5\", expected 2.0, 1.2 or none",
        ),
        (b"name,memory\nA,lots\n", 2, 3, "expected a size"),
        (b"name,free_disk\nA,GB\n", 2, 3, "expected a size"),
        (
            b"name,tpm\nA,2.0\nB,2.0\na,1.2\n",
            4,
            1,
            "duplicate name \"a\", first on row 1",
        ),
        (b"name,tpm\nA,2.0,extra\n", 2, 7, "3 cells, expected 2"),
        (b"name,tpm\nA\n", 2, 2, "1 cells, expected 2"),
        (b"name,tmp\nA,2.0\n", 1, 6, "unknown column \"tmp\""),
        (b"site,tpm\nHQ,2.0\n", 1, 1, "no `name` column"),
        (b"name,site\nA,Paris\n", 2, 3, "unknown site \"Paris\""),
        (b"name,os\nA,10.0.22631\n", 2, 3, "Windows 11 already"),
        (b"name,tpm\n\"A,2.0\n", 2, 1, "not closed on its line"),
        (
            b"name,tpm\nA,2.0\n\xEF\xBB\xBFB,2.0\n",
            3,
            1,
            "byte order mark inside",
        ),
        (b"\xFF\xFEn\x00a\x00", 1, 1, "UTF-16"),
        (b"name,tpm\nA,\xC3\x28\n", 2, 3, "invalid UTF-8"),
        (b"", 1, 1, "empty inventory"),
        (b"name,tpm\n", 1, 1, "no device rows"),
        (b"name,power_schedule\nA,office\n", 2, 3, "calendar"),
    ];
    for &(text, line, column, needle) in cases {
        let d = err(text);
        assert_eq!(
            (d.line, d.column),
            (line, column),
            "{:?}: {d}",
            String::from_utf8_lossy(text)
        );
        assert!(
            d.message.contains(needle),
            "{:?}: {d}",
            String::from_utf8_lossy(text)
        );
        assert_eq!(d.file, Path::new("devices.csv"));
    }
}

#[test]
fn a_huge_line_of_garbage_is_refused_without_reading_the_rest() {
    // 10 MB without a line break, then more: the reader stops after 64 KiB.
    struct Endless(u64);
    impl std::io::Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            assert!(self.0 < 10 << 20, "read far past the line limit");
            buf.fill(b'x');
            Ok(buf.len())
        }
    }
    let e =
        read_from(BufReader::new(Endless(0)), Path::new("devices.csv"), &[]).expect_err("refused");
    assert_eq!(e.len(), 1);
    assert!(
        e[0].message.contains("line longer than 65536 bytes"),
        "{}",
        e[0]
    );
    assert_eq!(e[0].line, 1);
}

#[test]
fn errors_stop_at_the_limit() {
    let mut text = b"name,tpm\n".to_vec();
    for i in 0..1000 {
        text.extend_from_slice(format!("D{i},9\n").as_bytes());
    }
    let e = read_str(&text).expect_err("bad");
    assert_eq!(e.len(), MAX_ERRORS + 1);
    assert!(e.last().unwrap().message.contains("stopped after"));
}

#[test]
fn quoted_cells_keep_commas_and_quotes() {
    let inv = read_str(b"name,model\n\"PC, 1\",\"The \"\"best\"\" model\"\n").expect("valid");
    assert_eq!(inv.name(0), "PC, 1");
    assert_eq!(inv.models, vec!["The \"best\" model"]);
}
