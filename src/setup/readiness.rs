//! Windows 11's hardware requirements, as Setup's compatibility scan applies them,
//! and the fleet's readiness table (who is blocked by what).
//!
//! The requirements (<https://learn.microsoft.com/windows/whats-new/windows-11-requirements>):
//! a supported 64-bit processor (1 GHz or faster), 4 GB of memory, a 64 GB system
//! drive, UEFI with Secure Boot, TPM 2.0; there is no 32-bit (x86) Windows 11.
//! Setup refuses a machine that misses one with 0xC1900200 ("does not meet the
//! minimum requirements", the Upgrade OS step's return codes in NOTES.md).
//!
//! The order of the causes is the order in which Microsoft's hardware readiness
//! script checks them (`HardwareReadiness.ps1`, <https://aka.ms/HWReadinessScript>,
//! published with "Understanding readiness for Windows 11 with Microsoft Endpoint
//! Manager"): storage, memory, TPM, processor, Secure Boot. The architecture comes
//! first: an x86 machine has no Windows 11 package at all. A machine missing several
//! requirements is counted once, under the first of them in that order; the table
//! also counts every machine under each requirement it misses.
//!
//! Sizes are compared as that script compares them: in GiB (PowerShell's `1GB`)
//! rounded to the nearest integer, so a drive sold as "64 GB" (59.6 GiB) is too
//! small, and 3.6 GiB of memory counts as 4.

use crate::domain::{Arch, Firmware, Tpm};

/// The machine facts Windows 11's compatibility check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hardware {
    /// Architecture of the running OS.
    pub arch: Arch,
    /// System drive size, bytes.
    pub system_drive: u64,
    /// Physical memory, bytes.
    pub memory: u64,
    /// TPM.
    pub tpm: Tpm,
    /// Processor on the supported list.
    pub cpu_supported: bool,
    /// Processor speed, MHz.
    pub cpu_mhz: u32,
    /// Firmware.
    pub firmware: Firmware,
}

/// A Windows 11 requirement a machine misses, in Setup's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// A 32-bit OS: no Windows 11 package exists for it.
    Architecture,
    /// System drive under 64 GB.
    SystemDrive,
    /// Memory under 4 GB.
    Memory,
    /// No TPM 2.0.
    Tpm,
    /// Processor not on the supported list (or 1 GHz or slower).
    Processor,
    /// Not UEFI with Secure Boot.
    Firmware,
}

impl Cause {
    /// Every cause, in Setup's order.
    pub const ALL: [Cause; 6] = [
        Cause::Architecture,
        Cause::SystemDrive,
        Cause::Memory,
        Cause::Tpm,
        Cause::Processor,
        Cause::Firmware,
    ];

    /// The name in `summary.json` and the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Architecture => "architecture",
            Cause::SystemDrive => "system_drive",
            Cause::Memory => "memory",
            Cause::Tpm => "tpm",
            Cause::Processor => "processor",
            Cause::Firmware => "firmware",
        }
    }

    /// What the requirement is, for people.
    pub fn requirement(self) -> &'static str {
        match self {
            Cause::Architecture => "64-bit OS (no x86 Windows 11)",
            Cause::SystemDrive => "system drive of 64 GB",
            Cause::Memory => "4 GB of memory",
            Cause::Tpm => "TPM 2.0",
            Cause::Processor => "supported processor",
            Cause::Firmware => "UEFI with Secure Boot",
        }
    }
}

const GIB: f64 = 1_073_741_824.0;

fn gib_rounded(bytes: u64) -> f64 {
    (bytes as f64 / GIB).round()
}

/// The requirements `h` misses, as a bit set over [`Cause::ALL`] (bit i = cause i).
pub fn missing(h: &Hardware) -> u8 {
    let checks = [
        h.arch == Arch::X86,
        gib_rounded(h.system_drive) < 64.0,
        gib_rounded(h.memory) < 4.0,
        h.tpm != Tpm::V20,
        // The script fails `MaxClockSpeed -le $MinClockSpeedMHz` (1000): exactly
        // 1 GHz is too slow for it.
        !h.cpu_supported || h.cpu_mhz <= 1000,
        h.firmware != Firmware::UefiSecureBoot,
    ];
    checks
        .iter()
        .enumerate()
        .fold(0u8, |acc, (i, &miss)| acc | (u8::from(miss) << i))
}

/// The first requirement `h` misses in Setup's order, `None` when it is eligible.
pub fn first_cause(h: &Hardware) -> Option<Cause> {
    let m = missing(h);
    Cause::ALL
        .iter()
        .enumerate()
        .find(|&(i, _)| m & (1 << i) != 0)
        .map(|(_, &c)| c)
}

/// The readiness table of a fleet: how many machines can take Windows 11.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readiness {
    /// Machines counted.
    pub clients: u64,
    /// Machines that meet every requirement.
    pub eligible: u64,
    /// Blocked machines by their first cause in Setup's order (adds up to the
    /// blocked machines), indexed like [`Cause::ALL`].
    pub first_cause: [u64; 6],
    /// Machines missing each requirement, overlaps counted under each.
    pub any_cause: [u64; 6],
}

impl Readiness {
    /// Adds one machine.
    pub fn add(&mut self, h: &Hardware) {
        self.clients += 1;
        let m = missing(h);
        if m == 0 {
            self.eligible += 1;
            return;
        }
        let first = m.trailing_zeros() as usize;
        if let Some(x) = self.first_cause.get_mut(first) {
            *x += 1;
        }
        for (i, x) in self.any_cause.iter_mut().enumerate() {
            if m & (1 << i) != 0 {
                *x += 1;
            }
        }
    }

    /// Machines blocked by at least one requirement.
    pub fn blocked(&self) -> u64 {
        self.clients - self.eligible
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Hardware {
        Hardware {
            arch: Arch::X64,
            system_drive: 256_000_000_000,
            memory: 8 << 30,
            tpm: Tpm::V20,
            cpu_supported: true,
            cpu_mhz: 2400,
            firmware: Firmware::UefiSecureBoot,
        }
    }

    #[test]
    fn each_requirement_alone_blocks_with_its_cause() {
        assert_eq!(first_cause(&ok()), None);
        let cases = [
            (
                Hardware {
                    arch: Arch::X86,
                    ..ok()
                },
                Cause::Architecture,
            ),
            (
                Hardware {
                    system_drive: 64_000_000_000,
                    ..ok()
                },
                Cause::SystemDrive,
            ),
            (
                Hardware {
                    memory: 3 << 30,
                    ..ok()
                },
                Cause::Memory,
            ),
            (
                Hardware {
                    tpm: Tpm::V12,
                    ..ok()
                },
                Cause::Tpm,
            ),
            (
                Hardware {
                    tpm: Tpm::None,
                    ..ok()
                },
                Cause::Tpm,
            ),
            (
                Hardware {
                    cpu_supported: false,
                    ..ok()
                },
                Cause::Processor,
            ),
            (
                Hardware {
                    cpu_mhz: 1000,
                    ..ok()
                },
                Cause::Processor,
            ),
            (
                Hardware {
                    firmware: Firmware::Uefi,
                    ..ok()
                },
                Cause::Firmware,
            ),
            (
                Hardware {
                    firmware: Firmware::Bios,
                    ..ok()
                },
                Cause::Firmware,
            ),
        ];
        for (h, want) in cases {
            assert_eq!(first_cause(&h), Some(want), "{h:?}");
            assert_eq!(missing(&h).count_ones(), 1, "{h:?}");
        }
    }

    #[test]
    fn sizes_are_rounded_gib_as_the_readiness_script_does() {
        let gib = 1u64 << 30;
        assert_eq!(
            first_cause(&Hardware {
                system_drive: 64 * gib,
                ..ok()
            }),
            None
        );
        // 63.6 GiB rounds to 64.
        assert_eq!(
            first_cause(&Hardware {
                system_drive: 63 * gib + 6 * gib / 10,
                ..ok()
            }),
            None
        );
        assert_eq!(
            first_cause(&Hardware {
                memory: 36 * gib / 10,
                ..ok()
            }),
            None
        );
        assert_eq!(
            first_cause(&Hardware {
                memory: 34 * gib / 10,
                ..ok()
            }),
            Some(Cause::Memory)
        );
    }

    #[test]
    fn overlapping_causes_count_once_under_the_first_and_under_each_in_any() {
        let mut r = Readiness::default();
        r.add(&ok());
        r.add(&Hardware {
            tpm: Tpm::None,
            firmware: Firmware::Bios,
            ..ok()
        });
        r.add(&Hardware {
            memory: 2 << 30,
            tpm: Tpm::V12,
            ..ok()
        });
        r.add(&Hardware {
            firmware: Firmware::Bios,
            ..ok()
        });
        assert_eq!((r.clients, r.eligible, r.blocked()), (4, 1, 3));
        // first: memory 1, tpm 1, firmware 1
        assert_eq!(r.first_cause, [0, 0, 1, 1, 0, 1]);
        assert_eq!(r.any_cause, [0, 0, 1, 2, 0, 2]);
        assert_eq!(r.first_cause.iter().sum::<u64>(), r.blocked());
    }
}
