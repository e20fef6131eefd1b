//! Reading input files: a size limit (a wrong path such as `/dev/zero` must not be
//! read until memory runs out), UTF-8 only, byte order mark dropped, errors located.

use std::io::Read as _;
use std::path::Path;

use crate::diag::Diagnostic;

/// Decodes a file's bytes: invalid UTF-8 is an error at the first bad byte; a
/// leading byte order mark is dropped (Notepad writes one).
pub fn decode(file: &Path, bytes: &[u8]) -> Result<String, Diagnostic> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let good = bytes.get(..e.valid_up_to()).unwrap_or_default();
            let prefix = String::from_utf8_lossy(good);
            let bad = bytes.get(e.valid_up_to()).copied().unwrap_or(0);
            Err(Diagnostic::at_offset(
                file,
                &prefix,
                prefix.len(),
                "",
                format!("invalid UTF-8 (byte 0x{bad:02X}), expected a UTF-8 text file"),
            ))
        }
    }
}

/// Largest input file read: a scenario, an XML export, a CSV of values. Far above any
/// real one (exports are a few MB), and it bounds what a wrong path (`/dev/zero`, a
/// disk image) can cost: without it such a file is read until memory runs out.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// Reads a whole input file, refusing one larger than [`MAX_FILE_BYTES`].
pub fn read_limited(path: &Path) -> std::io::Result<Vec<u8>> {
    read_limited_to(path, MAX_FILE_BYTES)
}

/// [`read_limited`] with the limit given (so tests need not read 256 MiB).
pub fn read_limited_to(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("larger than {} MiB, expected a text file", limit >> 20),
        ));
    }
    Ok(bytes)
}

/// [`read_limited`] for a file that must be UTF-8 text.
pub fn read_text_limited(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_limited(path)?).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "invalid UTF-8, expected a UTF-8 text file",
        )
    })
}

/// Strips a byte order mark from text that was already decoded.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_strips_bom_and_locates_bad_bytes() {
        let f = Path::new("s.toml");
        assert_eq!(
            decode(f, b"\xEF\xBB\xBFa = 1\r\n").expect("ok"),
            "a = 1\r\n"
        );
        let d = decode(f, b"a = 1\nb = \"\xFF\"\n").expect_err("bad byte");
        assert_eq!((d.line, d.column), (2, 6));
        assert!(d.message.contains("0xFF"));
        assert_eq!(strip_bom("\u{feff}x"), "x");
    }

    #[test]
    fn endless_and_oversized_files_are_refused_not_read_to_exhaustion() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("big.csv");
        std::fs::write(&p, vec![b'1'; 2048]).expect("write");
        assert_eq!(read_limited_to(&p, 2048).expect("at the limit").len(), 2048);
        let e = read_limited_to(&p, 2047).expect_err("over the limit");
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        if Path::new("/dev/zero").exists() {
            let e = read_limited_to(Path::new("/dev/zero"), 1 << 20).expect_err("endless");
            assert!(e.to_string().contains("larger than 1 MiB"), "{e}");
        }
        std::fs::write(&p, b"1\n\xFF\n").expect("write");
        let e = read_text_limited(&p).expect_err("not UTF-8");
        assert!(e.to_string().contains("UTF-8"), "{e}");
    }
}
