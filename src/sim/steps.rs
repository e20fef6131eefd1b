//! A client as the steps see it: its machine facts for conditions, its task
//! sequence variables, and the content stream of a running step. What each step
//! kind does is in `sim::kinds`.

use super::state::{Activity, Facts};
use super::transport::Transport;
use super::vars::{VarStore, VarTable};
use super::world::World;
use crate::fleet::flags as cflags;
use crate::scenario::model::Power;
use crate::tasksequence::cond::{Machine, Vars};
use crate::tasksequence::expand;

/// A client's variables as the condition evaluator sees them.
pub(crate) struct ClientVars<'a> {
    table: &'a VarTable,
    store: &'a VarStore,
    client: u32,
}

impl Vars for ClientVars<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        let slot = self.table.find(name)?;
        let raw = self.store.raw(self.client, slot);
        let id = if raw == 0 {
            self.table.initial(slot)
        } else {
            raw
        };
        self.table.strings.get(id)
    }
}

impl<T: Transport> World<'_, T> {
    /// The client's machine facts.
    pub(crate) fn machine(&self, c: u32) -> Machine<'_> {
        let a = &self.attrs[c as usize];
        Machine {
            arch: a.arch,
            language: self.s.fleet.language.items[a.language as usize].0,
            os: a.os,
            on_battery: a.power == Power::Battery,
            has_battery: a.has(cflags::HAS_BATTERY),
            network: a.network,
            model: &self.s.fleet.model.items[a.model as usize].0,
            memory_bytes: a.memory_mb as u64 * 1_048_576,
            free_disk_bytes: a.free_disk,
            cpu_mhz: a.cpu_mhz as u32,
            incompatible_app: a.has(cflags::INCOMPATIBLE_APP)
                && !self.st[c as usize].facts.has(Facts::REMOVED_APPS),
            incompatible_driver: a.has(cflags::INCOMPATIBLE_DRIVER)
                && !self.st[c as usize].facts.has(Facts::REMOVED_DRIVERS),
            third_party_encryption: a.has(cflags::ENCRYPTION),
        }
    }

    /// Evaluates condition `i` for client `c`.
    pub(crate) fn eval_cond(&self, c: u32, i: u32) -> bool {
        let vars = ClientVars {
            table: &self.prog.vars,
            store: &self.vars,
            client: c,
        };
        self.prog.conds[i as usize].eval(&self.machine(c), &vars)
    }

    /// Sets a variable of the client.
    pub(crate) fn set_var(&mut self, c: u32, slot: u16, value: &str) {
        let id = self.prog.vars.strings.intern(value);
        self.vars.set(c, slot, id);
    }

    pub(crate) fn set_named(&mut self, c: u32, name: &str, value: &str) {
        if let Some(slot) = self.prog.vars.find(name) {
            self.set_var(c, slot, value);
        }
    }

    /// `%VAR%` expansion with the client's variables.
    pub(crate) fn expand(&self, c: u32, s: &str) -> String {
        let vars = ClientVars {
            table: &self.prog.vars,
            store: &self.vars,
            client: c,
        };
        expand::expand(s, &vars)
    }

    /// Streams the next content item of the running step, or ends the stream (and
    /// the step, when its timer already fired).
    pub(crate) fn continue_stream(&mut self, c: u32) {
        let item = self.st[c as usize].item;
        if let Ok(Some(i)) = self.needed_item(c, item) {
            self.begin_download(c, i);
            return;
        }
        let st = &mut self.st[c as usize];
        let timer_fired = matches!(st.activity, Activity::StreamingAfterTimer(_));
        st.activity = Activity::RunningStep;
        if timer_fired {
            self.finish_timed_step(c);
        }
    }

    /// A string variable of the client by slot (no name lookup).
    pub(crate) fn var_str_slot(&self, c: u32, slot: u16) -> Option<&str> {
        let raw = self.vars.raw(c, slot);
        let id = if raw == 0 {
            self.prog.vars.initial(slot)
        } else {
            raw
        };
        self.prog.vars.strings.get(id)
    }

    /// A string variable of the client (tests read variables by name).
    #[cfg(test)]
    pub(crate) fn var_str(&self, c: u32, name: &str) -> Option<&str> {
        let slot = self.prog.vars.find(name)?;
        self.var_str_slot(c, slot)
    }
}
