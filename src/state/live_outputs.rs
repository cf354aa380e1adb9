//! The live outputs the host typed in the live controls, as the relay takes them.

use meshmeet_protocol::LiveOutputs;

/// The outputs of the live controls' form: one RTMP address per non-empty line of `rtmp`
/// (spaces around it dropped), and HLS. The relay checks the addresses.
pub fn live_outputs_from_form(rtmp: &str, hls: bool) -> LiveOutputs {
    LiveOutputs {
        rtmp: rtmp
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect(),
        hls,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_non_empty_line_is_one_rtmp_address() {
        let outputs =
            live_outputs_from_form("  rtmp://a/app/k1 \n\n\trtmps://b/app/k2\r\n  ", true);
        assert_eq!(outputs.rtmp, ["rtmp://a/app/k1", "rtmps://b/app/k2"]);
        assert!(outputs.hls);
        assert!(live_outputs_from_form(" \n ", false).is_empty());
    }
}
