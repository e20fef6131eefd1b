//! `%VAR%` expansion and the `cmd /c exit N` idiom.
//!
//! Why the simulator cares: the article's recommended inline assessment fails the task
//! sequence with `cmd /c exit %_SMSTSOSUpgradeActionReturnCode%`, so the interpreter
//! must expand the command line and recognise that it exits with the setup code.

use super::cond::Vars;

/// Replaces every `%NAME%` whose variable is set by its value, in one pass (values are
/// not expanded again).
///
/// - An unset variable is left as written, `%NAME%` included, and scanning resumes
///   after its closing `%` (as `cmd.exe` does on a command line).
/// - `%%` is left as `%%`: no variable has an empty name, so it is not a reference and
///   the task sequence engine passes it through for the program to interpret.
/// - A lone `%` with no closing `%` is literal.
pub fn expand(s: &str, vars: &dyn Vars) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('%') {
            Some(len) => {
                let name = &after[..len];
                match (!name.is_empty()).then(|| vars.get(name)).flatten() {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('%');
                        out.push_str(name);
                        out.push('%');
                    }
                }
                rest = &after[len + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The exit code of a command line that is only `cmd /c exit N` (also `cmd.exe`, a full
/// path to it, `/C`, `/k`-free forms and `exit /b N`), ignoring case and extra blanks.
///
/// `N` is decimal, possibly negative, or hexadecimal `0x...`; values from `i32::MIN`
/// to `u32::MAX` are returned as written, so `3247440392` and `0xC1900208` both give
/// 3247440392 (Windows Setup's codes are reported that way). A bare `exit` gives 0.
/// Anything else (other commands, a non-numeric or out-of-range `N`, such as an
/// unexpanded `%VAR%`) gives `None`: the command is not this idiom.
pub fn cmd_exit_code(command: &str) -> Option<i64> {
    let mut words = command.split_whitespace();
    let program = words.next()?.trim_matches('"');
    let file = program.rsplit(['\\', '/']).next().unwrap_or(program);
    if !(file.eq_ignore_ascii_case("cmd") || file.eq_ignore_ascii_case("cmd.exe")) {
        return None;
    }
    if !words.next()?.eq_ignore_ascii_case("/c") {
        return None;
    }
    if !words.next()?.eq_ignore_ascii_case("exit") {
        return None;
    }
    let mut code = words.next();
    if code.is_some_and(|w| w.eq_ignore_ascii_case("/b")) {
        code = words.next();
    }
    if words.next().is_some() {
        return None;
    }
    let Some(code) = code else {
        return Some(0);
    };
    let value = match code.strip_prefix("0x").or_else(|| code.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            i64::from_str_radix(hex, 16).ok()?
        }
        Some(_) => return None,
        None => {
            let digits = code.strip_prefix('-').unwrap_or(code);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            code.parse::<i64>().ok()?
        }
    };
    (i64::from(i32::MIN)..=i64::from(u32::MAX))
        .contains(&value)
        .then_some(value)
}
