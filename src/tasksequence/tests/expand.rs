//! `%VAR%` expansion and `cmd /c exit N`.

use crate::tasksequence::expand::{cmd_exit_code, expand};

#[test]
fn expands_known_variables_case_insensitively() {
    let v = [
        ("_SMSTSOSUpgradeActionReturnCode", "3247440392"),
        ("ProgramData", "C:\\ProgramData"),
    ];
    assert_eq!(
        expand("cmd /c exit %_smstsosupgradeactionreturncode%", &v),
        "cmd /c exit 3247440392"
    );
    assert_eq!(
        expand("%ProgramData%\\Citrix\\%ProgramData%", &v),
        "C:\\ProgramData\\Citrix\\C:\\ProgramData"
    );
}

#[test]
fn unknown_percent_and_lone_percent_are_kept() {
    let v = [("A", "1"), ("B", "2")];
    assert_eq!(expand("%Unknown%\\x", &v), "%Unknown%\\x");
    assert_eq!(expand("100%", &v), "100%");
    assert_eq!(expand("%%", &v), "%%");
    assert_eq!(expand("50%% done", &v), "50%% done");
    assert_eq!(expand("%A%%B%", &v), "12");
    // Scanning resumes after an unknown reference's closing %.
    assert_eq!(expand("%X%B%", &v), "%X%B%");
    assert_eq!(expand("é%A%ü", &v), "é1ü");
    assert_eq!(expand("", &v), "");
}

#[test]
fn values_are_not_expanded_again() {
    let v = [("A", "%B%"), ("B", "2")];
    assert_eq!(expand("%A%", &v), "%B%");
}

#[test]
fn cmd_exit_forms() {
    for (cmd, code) in [
        ("cmd /c exit 5", Some(5)),
        ("CMD.EXE /C EXIT 5", Some(5)),
        ("  cmd.exe   /c   exit   -1  ", Some(-1)),
        ("cmd /c exit 3247440392", Some(3_247_440_392)),
        ("cmd /c exit 0xC1900208", Some(3_247_440_392)),
        ("cmd /c exit 0XC1900210", Some(3_247_440_400)),
        ("C:\\Windows\\System32\\cmd.exe /c exit 3010", Some(3010)),
        ("\"cmd.exe\" /c exit 2", Some(2)),
        ("cmd /c exit /b 7", Some(7)),
        ("cmd /c exit", Some(0)),
        ("cmd /c exit %_SMSTSOSUpgradeActionReturnCode%", None),
        ("cmd /c exit 4294967296", None),
        ("cmd /c exit -2147483649", None),
        ("cmd /c exit 0x", None),
        ("cmd /c exit 12abc", None),
        ("cmd /c exit 1 && echo", None),
        ("cmd /k exit 1", None),
        ("powershell exit 1", None),
        ("cmd.exe /c XenDesktopVdaSetup.exe /quiet", None),
        ("", None),
    ] {
        assert_eq!(cmd_exit_code(cmd), code, "{cmd:?}");
    }
}
