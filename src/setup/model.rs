//! What Windows Setup does to one machine: which phases run, how long each takes, and
//! how it ends. A pure function of the machine and the setup parameters, so it can be
//! tested phase by phase against the domain reference (NOTES.md "Windows Setup").
//!
//! The rules, in the order Setup meets them:
//! 0. compat scan, Windows 11 packages only: a machine that misses one of Windows
//!    11's hardware requirements (`setup::readiness`) is hard-blocked with
//!    0xC1900200, before any reboot, so nothing rolls back; a scan-only run returns
//!    the same code.
//! 1. compat scan: an incompatible application (not removed beforehand) stops setup
//!    with 0xC1900208, before any reboot, so nothing rolls back. A scan-only run ends
//!    here with 0xC1900210 when nothing was found.
//! 2. downlevel: not enough free disk gives 0xC190020E (no rollback).
//! 3. a Windows Server upgrade without "ignore dismissable messages" waits for a
//!    Confirm click that never comes: the step hangs (until the deployment timeout).
//! 4. after the first restart (SafeOS / first boot): an incompatible driver (not
//!    removed), or third-party disk encryption without `/ReflectDrivers`, or a random
//!    migration failure, fails with 0xC1900101 and Setup rolls back to the old OS.
//! 5. otherwise the upgrade succeeds after second boot.
//!
//! The plan also lists the phases the step passes through with their durations
//! ([`SetupPlan::phases`]): compat scan, downlevel, restart, SafeOS, first boot,
//! second boot, and rollback (the uninstall phase) when Setup rolls back. They add
//! up to the step's duration, and `--trace` prints them, so a client "in Setup
//! phase X" is visible without an event per phase.

use rand::Rng;

use super::codes;
use crate::domain::{Arch, OsVersion, SetupModel};
use crate::engine::time::SimTime;

/// The machine facts Setup looks at.
#[derive(Debug, Clone, Copy)]
pub struct SetupInput {
    /// Architecture (selects the disk requirement).
    pub arch: Arch,
    /// OS before the upgrade.
    pub os: OsVersion,
    /// Free disk, bytes.
    pub free_disk: u64,
    /// Has an application that blocks setup, not removed.
    pub blocking_app: bool,
    /// Has a driver that breaks the upgrade, not removed.
    pub bad_driver: bool,
    /// Third-party disk encryption, and `/ReflectDrivers` was not given.
    pub unreflected_encryption: bool,
    /// "Ignore any dismissable compatibility messages".
    pub ignore_dismissable: bool,
    /// Scan only.
    pub scan_only: bool,
    /// The package installs Windows 11: the machine's hardware is checked
    /// (`None` for a Windows 10 package, which checks nothing of it).
    pub win11: Option<super::readiness::Hardware>,
}

/// Most phases one plan passes through (scan, downlevel, restart, SafeOS, first
/// boot, second boot, rollback).
pub const MAX_PHASES: usize = 7;

/// The phases a plan passes through, in order, with their durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Phases {
    len: u8,
    items: [(Option<SetupPhase>, SimTime); MAX_PHASES],
}

impl Phases {
    fn push(&mut self, p: SetupPhase, d: SimTime) {
        if let Some(slot) = self.items.get_mut(self.len as usize) {
            *slot = (Some(p), d);
            self.len += 1;
        }
    }

    /// `(phase, duration)` in the order Setup runs them.
    pub fn iter(&self) -> impl Iterator<Item = (SetupPhase, SimTime)> + '_ {
        self.items
            .iter()
            .take(self.len as usize)
            .filter_map(|&(p, d)| p.map(|p| (p, d)))
    }

    /// Sum of the durations.
    pub fn total(&self) -> SimTime {
        self.iter().map(|(_, d)| d).sum()
    }
}

/// How an Upgrade Operating System step ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetupPlan {
    /// Total time of the step; `None` when it never ends.
    pub duration: Option<SimTime>,
    /// Setup's return code (`_SMSTSOSUpgradeActionReturnCode`): 0 on success.
    pub code: u32,
    /// Setup rolled back to the previous OS.
    pub rollback: bool,
    /// Phase where it ended (where it failed, for a rollback).
    pub phase: SetupPhase,
    /// Phases passed through, with their durations (they add up to `duration`;
    /// a step that never ends lists the phase it hangs in with a zero duration).
    pub phases: Phases,
}

/// A phase of Windows Setup, where an upgrade ends or fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SetupPhase {
    /// The compatibility scan (the whole of a scan-only run).
    CompatScan,
    /// The downlevel phase, in the running OS.
    Downlevel,
    /// SafeOS, offline after the first restart.
    SafeOs,
    /// First boot into the new OS.
    FirstBoot,
    /// Second boot (OOBE).
    SecondBoot,
    /// The restart into SafeOS (never where a failure is blamed).
    Restart,
    /// Rollback to the previous OS (the uninstall phase), after a failure.
    Rollback,
}

impl SetupPhase {
    /// The name in `failures.csv` and traces.
    pub fn as_str(self) -> &'static str {
        match self {
            SetupPhase::CompatScan => "compat_scan",
            SetupPhase::Downlevel => "downlevel",
            SetupPhase::SafeOs => "safeos",
            SetupPhase::FirstBoot => "first_boot",
            SetupPhase::SecondBoot => "second_boot",
            SetupPhase::Restart => "restart",
            SetupPhase::Rollback => "rollback",
        }
    }
}

/// Free disk Windows Setup needs (the article's recommendation for Check Readiness:
/// 20480 MB for 64-bit, 16384 MB for 32-bit), bytes.
pub fn disk_needed(arch: Arch) -> u64 {
    match arch {
        Arch::X64 => 20_480 * 1_048_576,
        Arch::X86 => 16_384 * 1_048_576,
    }
}

fn draw<R: Rng + ?Sized>(d: &crate::domain::Dist, r: &mut R) -> SimTime {
    d.sample(r).round() as SimTime
}

/// Plans one Upgrade Operating System step. Durations are drawn in a fixed order from
/// `r` (the client's SETUP stream), so the plan is reproducible.
pub fn plan<R: Rng + ?Sized>(m: &SetupModel, i: &SetupInput, r: &mut R) -> SetupPlan {
    use SetupPhase as P;
    let scan = draw(&m.compat_scan, r);
    let downlevel = draw(&m.downlevel, r);
    let restart = draw(&m.restart, r);
    let safeos = draw(&m.safeos, r);
    let first = draw(&m.first_boot, r);
    let second = draw(&m.second_boot, r);
    let rollback = draw(&m.rollback, r);
    let random_fail = (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= m.random_rollback
        && m.random_rollback > 0.0;
    // The phases passed through, each with its time; the plan's duration is their sum.
    let end = |parts: &[&[(SetupPhase, SimTime)]], code: u32, rb: bool, phase: SetupPhase| {
        let mut phases = Phases::default();
        for &(p, d) in parts.iter().flat_map(|x| x.iter()) {
            phases.push(p, d);
        }
        SetupPlan {
            duration: Some(phases.total()),
            code,
            rollback: rb,
            phase,
            phases,
        }
    };
    if i.win11.is_some_and(|h| super::readiness::missing(&h) != 0) {
        return end(
            &[&[(P::CompatScan, scan)]],
            codes::BELOW_MINIMUM,
            false,
            P::CompatScan,
        );
    }
    if i.blocking_app {
        return end(
            &[&[(P::CompatScan, scan)]],
            codes::COMPAT_APP_BLOCK,
            false,
            P::CompatScan,
        );
    }
    let disk_short = i.free_disk < disk_needed(i.arch);
    if i.scan_only {
        let code = if disk_short {
            codes::DISK_SPACE
        } else {
            codes::COMPAT_SCANONLY
        };
        return end(&[&[(P::CompatScan, scan)]], code, false, P::CompatScan);
    }
    if disk_short {
        return end(
            &[&[(P::CompatScan, scan), (P::Downlevel, downlevel / 4)]],
            codes::DISK_SPACE,
            false,
            P::Downlevel,
        );
    }
    let server = matches!(i.os, OsVersion::Server2012 | OsVersion::Server2012R2);
    if server && !i.ignore_dismissable {
        let mut phases = Phases::default();
        phases.push(P::CompatScan, 0);
        return SetupPlan {
            duration: None,
            code: 0,
            rollback: false,
            phase: P::CompatScan,
            phases,
        };
    }
    let online = [
        (P::CompatScan, scan),
        (P::Downlevel, downlevel),
        (P::Restart, restart),
    ];
    if i.unreflected_encryption {
        let steps: &[_] = &[(P::SafeOs, safeos / 2), (P::Rollback, rollback)];
        return end(&[&online, steps], codes::DRIVER_ROLLBACK, true, P::SafeOs);
    }
    if i.bad_driver {
        let steps: &[_] = &[
            (P::SafeOs, safeos),
            (P::FirstBoot, first / 2),
            (P::Rollback, rollback),
        ];
        return end(
            &[&online, steps],
            codes::DRIVER_ROLLBACK,
            true,
            P::FirstBoot,
        );
    }
    if random_fail {
        let steps: &[_] = &[
            (P::SafeOs, safeos),
            (P::FirstBoot, first),
            (P::SecondBoot, second / 2),
            (P::Rollback, rollback),
        ];
        return end(
            &[&online, steps],
            codes::DRIVER_ROLLBACK,
            true,
            P::SecondBoot,
        );
    }
    let steps: &[_] = &[
        (P::SafeOs, safeos),
        (P::FirstBoot, first),
        (P::SecondBoot, second),
    ];
    end(&[&online, steps], 0, false, P::SecondBoot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Dist;
    use crate::engine::rng;

    fn fixed_model() -> SetupModel {
        let m = |x: u64| Dist::Fixed(x as f64 * 60e6);
        SetupModel {
            compat_scan: m(10),
            downlevel: m(40),
            restart: m(2),
            safeos: m(10),
            first_boot: m(12),
            second_boot: m(8),
            rollback: m(30),
            random_rollback: 0.0,
            default_step: m(1),
        }
    }

    fn clean() -> SetupInput {
        SetupInput {
            arch: Arch::X64,
            os: OsVersion::Win7,
            free_disk: 100_000_000_000,
            blocking_app: false,
            bad_driver: false,
            unreflected_encryption: false,
            ignore_dismissable: false,
            scan_only: false,
            win11: None,
        }
    }

    fn run(i: SetupInput) -> SetupPlan {
        plan(&fixed_model(), &i, &mut rng::stream(1, 2, 3))
    }

    const MIN: SimTime = 60_000_000;

    #[test]
    fn a_clean_upgrade_runs_every_phase() {
        let p = run(clean());
        assert_eq!(
            (p.duration, p.code, p.rollback, p.phase),
            (
                Some((10 + 40 + 2 + 10 + 12 + 8) * MIN),
                0,
                false,
                SetupPhase::SecondBoot
            )
        );
        let names: Vec<&str> = p.phases.iter().map(|(ph, _)| ph.as_str()).collect();
        assert_eq!(
            names,
            [
                "compat_scan",
                "downlevel",
                "restart",
                "safeos",
                "first_boot",
                "second_boot"
            ]
        );
    }

    #[test]
    fn scan_only_reports_0xc1900210_when_nothing_is_found() {
        let p = run(SetupInput {
            scan_only: true,
            ..clean()
        });
        assert_eq!(
            (p.code, p.duration, p.rollback),
            (codes::COMPAT_SCANONLY, Some(10 * MIN), false)
        );
        assert_eq!(
            p.code as u64, 3_247_440_400,
            "the decimal the article's condition compares with"
        );
    }

    #[test]
    fn an_incompatible_app_stops_setup_at_the_scan_without_rollback() {
        for scan_only in [false, true] {
            let p = run(SetupInput {
                blocking_app: true,
                scan_only,
                ..clean()
            });
            assert_eq!(
                (p.code, p.rollback, p.phase, p.duration),
                (
                    codes::COMPAT_APP_BLOCK,
                    false,
                    SetupPhase::CompatScan,
                    Some(10 * MIN)
                )
            );
        }
    }

    #[test]
    fn an_incompatible_driver_fails_after_the_restart_and_rolls_back() {
        let p = run(SetupInput {
            bad_driver: true,
            ..clean()
        });
        assert_eq!(
            (p.code, p.rollback, p.phase),
            (codes::DRIVER_ROLLBACK, true, SetupPhase::FirstBoot)
        );
        // Past the first restart: downlevel, restart and SafeOS are spent, then rollback.
        assert_eq!(p.duration, Some((10 + 40 + 2 + 10 + 6 + 30) * MIN));
    }

    #[test]
    fn encryption_without_reflect_drivers_rolls_back_in_safeos() {
        let p = run(SetupInput {
            unreflected_encryption: true,
            ..clean()
        });
        assert_eq!(
            (p.code, p.rollback, p.phase),
            (codes::DRIVER_ROLLBACK, true, SetupPhase::SafeOs)
        );
    }

    #[test]
    fn not_enough_disk_fails_downlevel_with_0xc190020e() {
        let p = run(SetupInput {
            free_disk: 10_000_000_000,
            ..clean()
        });
        assert_eq!(
            (p.code, p.rollback, p.phase),
            (codes::DISK_SPACE, false, SetupPhase::Downlevel)
        );
        let x86 = run(SetupInput {
            arch: Arch::X86,
            free_disk: 18_000 * 1_048_576,
            ..clean()
        });
        assert_eq!(x86.code, 0, "16384 MB suffices for x86");
    }

    #[test]
    fn a_server_upgrade_without_ignore_dismissable_never_ends() {
        for os in [OsVersion::Server2012, OsVersion::Server2012R2] {
            assert_eq!(run(SetupInput { os, ..clean() }).duration, None);
            assert_eq!(
                run(SetupInput {
                    os,
                    ignore_dismissable: true,
                    ..clean()
                })
                .code,
                0
            );
        }
    }

    fn win11_hw() -> crate::setup::readiness::Hardware {
        crate::setup::readiness::Hardware {
            arch: Arch::X64,
            system_drive: 256_000_000_000,
            memory: 8 << 30,
            tpm: crate::domain::Tpm::V20,
            cpu_supported: true,
            cpu_mhz: 2400,
            firmware: crate::domain::Firmware::UefiSecureBoot,
        }
    }

    #[test]
    fn windows_11_blocks_an_ineligible_machine_at_the_scan_with_0xc1900200() {
        let bad = crate::setup::readiness::Hardware {
            tpm: crate::domain::Tpm::V12,
            ..win11_hw()
        };
        for scan_only in [false, true] {
            let p = run(SetupInput {
                win11: Some(bad),
                scan_only,
                blocking_app: true,
                ..clean()
            });
            // Before the application check, before any reboot: no rollback.
            assert_eq!(
                (p.code, p.rollback, p.phase, p.duration),
                (
                    codes::BELOW_MINIMUM,
                    false,
                    SetupPhase::CompatScan,
                    Some(10 * MIN)
                )
            );
            assert_eq!(p.code as u64, 3_247_440_384);
        }
        let ok = run(SetupInput {
            win11: Some(win11_hw()),
            ..clean()
        });
        assert_eq!(ok.code, 0, "an eligible machine upgrades");
    }

    #[test]
    fn the_phases_of_every_ending_add_up_to_the_step() {
        let endings = [
            clean(),
            SetupInput {
                bad_driver: true,
                ..clean()
            },
            SetupInput {
                unreflected_encryption: true,
                ..clean()
            },
            SetupInput {
                free_disk: 1,
                ..clean()
            },
            SetupInput {
                blocking_app: true,
                ..clean()
            },
            SetupInput {
                scan_only: true,
                ..clean()
            },
        ];
        for i in endings {
            let p = run(i);
            assert_eq!(Some(p.phases.total()), p.duration, "{i:?}");
        }
        let rb = run(SetupInput {
            bad_driver: true,
            ..clean()
        });
        let names: Vec<&str> = rb.phases.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "compat_scan",
                "downlevel",
                "restart",
                "safeos",
                "first_boot",
                "rollback"
            ]
        );
    }

    #[test]
    fn random_rollbacks_happen_at_the_configured_rate() {
        let m = SetupModel {
            random_rollback: 0.2,
            ..fixed_model()
        };
        let n = 20_000;
        let rolled = (0..n)
            .filter(|&c| plan(&m, &clean(), &mut rng::stream(9, c, 1)).rollback)
            .count();
        let share = rolled as f64 / n as f64;
        assert!((share - 0.2).abs() < 0.015, "{share}");
    }
}
