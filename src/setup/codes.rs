//! Exit codes the simulator can produce, with their names, so that `failures.csv` and
//! `failures_by_code` say what happened in the words of Microsoft's error pages
//! (`shared/domain/NOTES.md`, "Windows Setup").

/// Scan-only Upgrade OS found no issue (MOSETUP_E_COMPAT_SCANONLY). Not a failure.
pub const COMPAT_SCANONLY: u32 = 0xC190_0210;
/// An incompatible application blocks setup (compat scan / downlevel; no rollback).
pub const COMPAT_APP_BLOCK: u32 = 0xC190_0208;
/// Migration choice not available.
pub const MIGRATION_CHOICE: u32 = 0xC190_0204;
/// Below minimum requirements.
pub const BELOW_MINIMUM: u32 = 0xC190_0200;
/// Not enough free disk for setup.
pub const DISK_SPACE: u32 = 0xC190_020E;
/// Cleanup from an earlier attempt pending.
pub const CLEANUP_PENDING: u32 = 0xC190_0107;
/// Driver failure after the first restart: setup rolls back.
pub const DRIVER_ROLLBACK: u32 = 0xC190_0101;
/// Disk full.
pub const DISK_FULL: u32 = 0x8007_0070;
/// Generic failure (E_FAIL): a Check Readiness requirement not met.
pub const E_FAIL: u32 = 0x8000_4005;
/// Check Readiness: at least one check failed, "The resource required for this
/// operation does not exist" (4316 decimal), as the task sequence steps page says of
/// the step (<https://learn.microsoft.com/mem/configmgr/osd/understand/task-sequence-steps#BKMK_CheckReadiness>).
/// The UEFI and TPM checks (ConfigMgr 2010 and 2111) fail with it; the older checks
/// keep [`E_FAIL`], which the simulator gave them before, so that results of
/// existing scenarios do not move (see the README).
pub const READINESS_CHECK_FAILED: u32 = 4316;
/// Content download failed after every retry (ERROR_INTERNET_TIMEOUT, WININET 12002).
pub const DOWNLOAD_FAILED: u32 = 0x8007_2EE2;
/// No distribution point has the content for this client (boundary group without DPs
/// and no fallback): "failed to resolve content location".
pub const NO_CONTENT_LOCATION: u32 = 0x8004_0102;
/// The content does not fit in the client cache (ConfigMgr client 0x87D01201: not
/// enough space in the cache).
pub const CACHE_FULL: u32 = 0x87D0_1201;
/// The task sequence exceeded the deployment's timeout (ERROR_TIMEOUT).
pub const TIMEOUT: u32 = 0x8007_05B4;
/// No OS upgrade package matches the client's architecture and language.
pub const NO_MATCHING_OS_PACKAGE: u32 = 0x8007_0490;

/// Name of a code for reports; unknown codes are named by their decimal value.
pub fn name(code: u32) -> &'static str {
    match code {
        COMPAT_SCANONLY => "MOSETUP_E_COMPAT_SCANONLY (scan found no issue)",
        COMPAT_APP_BLOCK => "incompatible application blocks setup",
        MIGRATION_CHOICE => "migration choice not available",
        BELOW_MINIMUM => "below minimum requirements",
        DISK_SPACE => "not enough free disk space for setup",
        CLEANUP_PENDING => "cleanup from an earlier attempt pending",
        DRIVER_ROLLBACK => "driver failure, setup rolled back",
        DISK_FULL => "disk full",
        E_FAIL => "E_FAIL (requirement not met)",
        READINESS_CHECK_FAILED => "Check Readiness: a check failed (resource does not exist)",
        DOWNLOAD_FAILED => "content download failed after retries",
        NO_CONTENT_LOCATION => "no distribution point available for the content",
        CACHE_FULL => "content does not fit in the client cache",
        TIMEOUT => "task sequence timed out",
        NO_MATCHING_OS_PACKAGE => "no OS upgrade package matches architecture and language",
        _ => "exit code of a task sequence step",
    }
}

/// The name of a code written as [`hex`] renders it (`0xC1900208`); `None` when the
/// text is not such a code.
pub fn name_of_hex(text: &str) -> Option<&'static str> {
    let digits = text.strip_prefix("0x")?;
    u32::from_str_radix(digits, 16).ok().map(name)
}

/// `0xC1900208` style rendering.
pub fn hex(code: u32) -> String {
    format!("0x{code:08X}")
}

#[cfg(test)]
mod hex_tests {
    use super::*;

    #[test]
    fn a_hex_key_names_its_code_and_other_text_names_nothing() {
        assert_eq!(name_of_hex(&hex(BELOW_MINIMUM)), Some(name(BELOW_MINIMUM)));
        assert_eq!(
            name_of_hex("0xC1900200"),
            Some("below minimum requirements")
        );
        assert_eq!(name_of_hex("C1900200"), None);
        assert_eq!(name_of_hex("0xZZ"), None);
    }
}
