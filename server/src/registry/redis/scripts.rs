//! The Lua scripts, each one atomic step on the shared state. Their text lives in `lua/`
//! (one file per script, each saying its arguments and answer) and is built into the binary.

use ::redis::Script;

use super::inbox::INBOX_MAX_ENTRIES;

/// Key names and delivery helpers, prepended to every script.
const PRELUDE: &str = include_str!("lua/prelude.lua");

/// The scripts, ready to run (each is sent by hash, and loaded on first use).
#[derive(Debug)]
pub(super) struct Scripts {
    pub join: Script,
    pub leave: Script,
    pub update: Script,
    pub send_to: Script,
    pub broadcast: Script,
    pub stats: Script,
    pub heartbeat: Script,
    pub register: Script,
    pub dead_instances: Script,
    pub forget_instance: Script,
    pub host: Script,
    pub settle: Script,
    pub placement: Script,
    pub speaker: Script,
}

impl Scripts {
    pub fn new() -> Scripts {
        let prelude = PRELUDE.replace("INBOX_MAX_ENTRIES", &INBOX_MAX_ENTRIES.to_string());
        let script = |body: &str| Script::new(&format!("{prelude}{body}"));
        Scripts {
            join: script(include_str!("lua/join.lua")),
            leave: script(include_str!("lua/leave.lua")),
            update: script(include_str!("lua/update.lua")),
            send_to: script(include_str!("lua/send_to.lua")),
            broadcast: script(include_str!("lua/broadcast.lua")),
            stats: script(include_str!("lua/stats.lua")),
            heartbeat: script(include_str!("lua/heartbeat.lua")),
            register: script(include_str!("lua/register.lua")),
            dead_instances: script(include_str!("lua/dead_instances.lua")),
            forget_instance: script(include_str!("lua/forget_instance.lua")),
            host: script(include_str!("lua/host.lua")),
            settle: script(include_str!("lua/settle.lua")),
            placement: script(include_str!("lua/placement.lua")),
            speaker: script(include_str!("lua/speaker.lua")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inbox_bound_is_filled_into_the_prelude() {
        assert!(PRELUDE.contains("'MAXLEN', '~', INBOX_MAX_ENTRIES,"));
        let filled = PRELUDE.replace("INBOX_MAX_ENTRIES", &INBOX_MAX_ENTRIES.to_string());
        assert!(filled.contains(&format!("'MAXLEN', '~', {INBOX_MAX_ENTRIES},")));
        assert!(
            !filled.contains("INBOX_MAX_ENTRIES"),
            "no placeholder is left for Lua"
        );
    }
}
