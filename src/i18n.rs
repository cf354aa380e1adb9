//! Every piece of text the UI shows, in English and Simplified Chinese.
//!
//! Strings live in one struct with a field per key, so a key missing in either language is a
//! compile error, not a blank on screen. Components read them through [`use_strings`].

use yew::prelude::*;

/// A UI language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

const STORAGE_KEY: &str = "meshmeet.lang";

impl Lang {
    /// Every language, in the order the switch offers them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The strings of this language.
    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::En => &EN,
            Lang::Zh => &ZH,
        }
    }

    /// BCP 47 tag, for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// Picks a language from a BCP 47 tag such as `zh-CN` or `en-US`.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.to_ascii_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// The remembered choice, else the browser's preferred language.
    pub fn detect() -> Lang {
        let Some(window) = web_sys::window() else {
            return Lang::En;
        };
        if let Some(saved) = window
            .local_storage()
            .ok()
            .flatten()
            .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        {
            return Lang::from_tag(&saved);
        }
        window
            .navigator()
            .language()
            .map(|tag| Lang::from_tag(&tag))
            .unwrap_or(Lang::En)
    }

    /// Remembers this choice for the next visit and sets `<html lang>`.
    pub fn remember(self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some(storage) = window.local_storage().ok().flatten() {
            let _ = storage.set_item(STORAGE_KEY, self.tag());
        }
        if let Some(root) = window.document().and_then(|d| d.document_element()) {
            let _ = root.set_attribute("lang", self.tag());
        }
    }
}

/// The language context: current language and a way to change it.
#[derive(Clone, PartialEq)]
pub struct LangContext {
    /// The language shown.
    pub lang: Lang,
    /// Switches the language.
    pub set: Callback<Lang>,
}

/// The strings of the current language (English outside a [`LangContext`]).
#[hook]
pub fn use_strings() -> &'static Strings {
    use_context::<LangContext>()
        .map(|c| c.lang)
        .unwrap_or(Lang::En)
        .strings()
}

/// All UI text of one language.
#[derive(Debug, PartialEq, Eq)]
pub struct Strings {
    pub app_tagline: &'static str,
    pub start_meeting: &'static str,
    pub join_with_code: &'static str,
    pub room_code_label: &'static str,
    pub go: &'static str,
    pub invalid_room_code: &'static str,
    pub language: &'static str,
    pub lobby_title: &'static str,
    pub your_name: &'static str,
    pub name_placeholder: &'static str,
    pub join: &'static str,
    pub joining: &'static str,
    pub camera: &'static str,
    pub microphone: &'static str,
    pub speaker: &'static str,
    pub default_device: &'static str,
    pub camera_preview: &'static str,
    pub mic_level: &'static str,
    pub turn_camera_on: &'static str,
    pub turn_camera_off: &'static str,
    pub unmute: &'static str,
    pub mute: &'static str,
    pub leave: &'static str,
    pub participants: &'static str,
    pub settings: &'static str,
    pub audio_only: &'static str,
    pub connection_quality: &'static str,
    pub quality_good: &'static str,
    pub quality_fair: &'static str,
    pub quality_poor: &'static str,
    pub show_stats: &'static str,
    pub stats_title: &'static str,
    pub sent: &'static str,
    pub received: &'static str,
    pub bitrate: &'static str,
    pub loss: &'static str,
    pub jitter: &'static str,
    pub rtt: &'static str,
    pub frame_rate: &'static str,
    pub resolution: &'static str,
    pub limited_by: &'static str,
    pub route: &'static str,
    pub graph_label: &'static str,
    pub own_connection_poor: &'static str,
    pub measuring: &'static str,
    pub chat: &'static str,
    pub chat_message_label: &'static str,
    pub chat_placeholder: &'static str,
    pub send: &'static str,
    pub no_messages: &'static str,
    pub files: &'static str,
    pub send_file_to: &'static str,
    pub everyone: &'static str,
    pub choose_file: &'static str,
    pub cancel: &'static str,
    pub download: &'static str,
    pub to_peer: &'static str,
    pub from_peer: &'static str,
    pub transfer_active: &'static str,
    pub transfer_done: &'static str,
    pub transfer_cancelled: &'static str,
    pub transfer_failed: &'static str,
    pub unread: &'static str,
    pub screen_of: &'static str,
    pub share_screen: &'static str,
    pub stop_sharing: &'static str,
    pub err_screen: &'static str,
    pub invite_link: &'static str,
    pub copy_link: &'static str,
    pub copied: &'static str,
    pub you: &'static str,
    pub mic_off: &'static str,
    pub camera_off: &'static str,
    pub waiting_for_others: &'static str,
    pub enable_sound: &'static str,
    pub conn_connecting: &'static str,
    pub conn_connected: &'static str,
    pub conn_reconnecting: &'static str,
    pub conn_failed: &'static str,
    pub err_permission_denied: &'static str,
    pub err_no_device: &'static str,
    pub err_device_in_use: &'static str,
    pub err_insecure_context: &'static str,
    pub err_unsupported: &'static str,
    pub err_media_other: &'static str,
    pub join_anyway_hint: &'static str,
    pub retry_devices: &'static str,
    pub err_room_full: &'static str,
    pub err_wrong_password: &'static str,
    pub err_version: &'static str,
    pub err_invalid_name: &'static str,
    pub err_invalid_room: &'static str,
    pub err_relay_unreachable: &'static str,
    pub err_relay_lost: &'static str,
    /// Banner while the relay connection is being re-established.
    pub reconnecting: &'static str,
    pub err_relay_other: &'static str,
    pub dismiss: &'static str,
    pub left_title: &'static str,
    pub rejoin: &'static str,
    pub back_home: &'static str,
    pub connecting_to_room: &'static str,
    pub meeting_controls: &'static str,
    pub video_grid: &'static str,
    pub view_grid: &'static str,
    pub view_speaker: &'static str,
    pub pin: &'static str,
    pub unpin: &'static str,
    pub full_screen: &'static str,
    pub minimise_self: &'static str,
    pub restore_self: &'static str,
    pub toast_joined: &'static str,
    pub toast_left: &'static str,
    pub close: &'static str,
    pub muted_while_speaking: &'static str,
    pub shortcuts_title: &'static str,
    pub sc_mic: &'static str,
    pub sc_camera: &'static str,
    pub sc_screen: &'static str,
    pub sc_chat: &'static str,
    pub sc_view: &'static str,
    pub sc_help: &'static str,
    pub sc_leave: &'static str,
    pub title_muted: &'static str,
    pub qr_code: &'static str,
    pub password_label: &'static str,
    pub password_hint: &'static str,
    pub relay_only: &'static str,
    pub name_from_link: &'static str,
    pub host: &'static str,
    pub host_controls: &'static str,
    pub lock_room: &'static str,
    pub room_locked: &'static str,
    pub remove_participant: &'static str,
    pub ask_to_mute: &'static str,
    pub make_host: &'static str,
    pub end_for_all: &'static str,
    pub live: &'static str,
    pub live_on_stage: &'static str,
    pub live_stage_pick: &'static str,
    pub live_follow_speaker: &'static str,
    pub live_follows_speaker: &'static str,
    pub go_live: &'static str,
    pub stop_live: &'static str,
    pub watch_link: &'static str,
    /// The RTMP addresses field of the live controls.
    pub rtmp_urls: &'static str,
    /// The HLS checkbox of the live controls.
    pub live_hls: &'static str,
    /// The HLS playlist link while live with HLS.
    pub hls_link: &'static str,
    /// An RTMP address being connected to.
    pub rtmp_connecting: &'static str,
    /// An RTMP address receiving the stage.
    pub rtmp_sending: &'static str,
    /// An RTMP address failing; its reason and the seconds to the next try follow.
    pub rtmp_failing: &'static str,
    /// Before the seconds to an RTMP address's next try.
    pub rtmp_retry_in: &'static str,
    /// The name field for letting an encoder in (WHIP).
    pub encoder_name: &'static str,
    /// The button letting an encoder in.
    pub add_encoder: &'static str,
    /// The accessible name of an encoder's token field.
    pub whip_token: &'static str,
    /// The RTSP camera address field.
    pub camera_url: &'static str,
    /// The button adding an RTSP camera.
    pub add_camera: &'static str,
    /// A camera that did not come in (followed by the relay's words).
    pub camera_failed: &'static str,
    pub live_unavailable: &'static str,
    pub watch_title: &'static str,
    pub watch_waiting: &'static str,
    pub watch_ended: &'static str,
    pub watch_connecting: &'static str,
    pub watch_failed: &'static str,
    pub watch_viewers: &'static str,
    pub watch_unmute: &'static str,
    pub watch_no_token: &'static str,
    pub mute_requested: &'static str,
    pub err_removed: &'static str,
    pub err_removed_rejoin: &'static str,
    pub err_meeting_ended: &'static str,
    pub err_room_locked: &'static str,
    pub err_too_many_attempts: &'static str,
    pub err_invalid_token: &'static str,
    pub err_token_expired: &'static str,
    pub err_turn_refused: &'static str,
    pub err_turn_unreachable: &'static str,
}

/// English.
pub const EN: Strings = Strings {
    app_tagline: "Private video meetings in your browser. Nothing to install.",
    start_meeting: "Start a new meeting",
    join_with_code: "Or join a meeting",
    room_code_label: "Meeting code",
    go: "Go",
    invalid_room_code: "Use letters, digits, - _ or . (up to 64).",
    language: "Language",
    lobby_title: "Ready to join?",
    your_name: "Your name",
    name_placeholder: "How others will see you",
    join: "Join meeting",
    joining: "Joining…",
    camera: "Camera",
    microphone: "Microphone",
    speaker: "Speaker",
    default_device: "Default",
    camera_preview: "Your camera preview",
    mic_level: "Microphone level",
    turn_camera_on: "Turn camera on",
    turn_camera_off: "Turn camera off",
    unmute: "Unmute microphone",
    mute: "Mute microphone",
    leave: "Leave meeting",
    participants: "Participants",
    settings: "Devices",
    audio_only: "Receive audio only (saves bandwidth)",
    connection_quality: "Connection",
    quality_good: "good",
    quality_fair: "fair",
    quality_poor: "poor",
    show_stats: "Connection details",
    stats_title: "Connection to",
    sent: "Sent",
    received: "Received",
    bitrate: "Bitrate",
    loss: "Packet loss",
    jitter: "Jitter",
    rtt: "Round trip",
    frame_rate: "Frame rate",
    resolution: "Resolution",
    limited_by: "Limited by",
    route: "Route",
    graph_label: "Video bitrate and round trip, last minute",
    own_connection_poor: "Your connection is poor: video is reduced. Close other apps that use the network, or turn your camera off.",
    measuring: "Measuring…",
    chat: "Chat",
    chat_message_label: "Message",
    chat_placeholder: "Write a message",
    send: "Send",
    no_messages: "No messages yet. Messages go straight to the others, not through the server.",
    files: "Files",
    send_file_to: "Send a file to",
    everyone: "Everyone",
    choose_file: "Choose or drop a file",
    cancel: "Cancel",
    download: "Download",
    to_peer: "to",
    from_peer: "from",
    transfer_active: "Transferring",
    transfer_done: "Done",
    transfer_cancelled: "Cancelled",
    transfer_failed: "Failed",
    unread: "unread",
    screen_of: "shared screen",
    share_screen: "Share your screen",
    stop_sharing: "Stop sharing",
    err_screen: "Screen sharing did not start. Pick a screen, window or tab, or allow sharing in the browser settings.",
    invite_link: "Invite link",
    copy_link: "Copy link",
    copied: "Copied",
    you: "You",
    mic_off: "Microphone off",
    camera_off: "Camera off",
    waiting_for_others: "Waiting for others to join. Share the invite link.",
    enable_sound: "Click to turn on sound",
    conn_connecting: "Connecting…",
    conn_connected: "Connected",
    conn_reconnecting: "Reconnecting…",
    conn_failed: "Connection failed",
    err_permission_denied: "Camera or microphone access was blocked. Allow it in the address bar, or join without them.",
    err_no_device: "No camera or microphone was found. Plug one in, or join without it.",
    err_device_in_use: "Your camera or microphone is used by another application. Close it, or join without it.",
    err_insecure_context: "Cameras only work on https:// pages or on localhost. Ask your administrator to enable HTTPS.",
    err_unsupported: "This browser cannot capture camera or microphone.",
    err_media_other: "The camera or microphone could not be started.",
    join_anyway_hint: "You can still join: others will hear or see only what you share.",
    retry_devices: "Try again",
    err_room_full: "This meeting is full. Ask the host to make room, or start another meeting.",
    err_wrong_password: "The meeting password is wrong.",
    err_version: "This page is out of date. Reload it to join.",
    err_invalid_name: "Your name is empty, too long, or has characters that are not allowed.",
    err_invalid_room: "This meeting link is not valid.",
    err_relay_unreachable: "Cannot reach the meeting server. Check your network and try again.",
    err_relay_lost: "The connection to the meeting server was lost.",
    reconnecting: "Connection to the meeting server lost. Reconnecting… the call goes on meanwhile.",
    err_relay_other: "The meeting server refused the request.",
    dismiss: "Dismiss",
    left_title: "You left the meeting.",
    rejoin: "Rejoin",
    back_home: "Back to start",
    connecting_to_room: "Connecting to the meeting…",
    meeting_controls: "Meeting controls",
    video_grid: "Participants' video",
    view_grid: "Grid view",
    view_speaker: "Speaker view",
    pin: "Pin to the stage",
    unpin: "Unpin",
    full_screen: "Full screen",
    minimise_self: "Minimise your video",
    restore_self: "Show your video",
    toast_joined: "joined",
    toast_left: "left",
    close: "Close",
    muted_while_speaking: "You are muted. Press M or the microphone button to talk.",
    shortcuts_title: "Keyboard shortcuts",
    sc_mic: "Mute or unmute",
    sc_camera: "Turn the camera on or off",
    sc_screen: "Share your screen, or stop",
    sc_chat: "Open or close the chat",
    sc_view: "Switch between grid and speaker view",
    sc_help: "Show this list",
    sc_leave: "Leave the meeting",
    title_muted: "Muted",
    qr_code: "QR code of the invite link, for phones",
    password_label: "Room password (optional)",
    password_hint: "The first person in sets it; everyone after must type the same one.",
    relay_only: "Connect only through the TURN relay (the others never see your IP address)",
    name_from_link: "Your name comes from the meeting link.",
    host: "Host",
    host_controls: "Host controls",
    lock_room: "Lock the meeting (nobody new can join)",
    room_locked: "Meeting locked",
    remove_participant: "Remove from the meeting:",
    ask_to_mute: "Ask to mute:",
    make_host: "Make host:",
    end_for_all: "End the meeting for everyone",
    live: "LIVE",
    live_on_stage: "On stage:",
    live_stage_pick: "Who is on the stage",
    live_follow_speaker: "Whoever speaks",
    live_follows_speaker: "follows who speaks",
    go_live: "Go live",
    stop_live: "Stop the live",
    watch_link: "Watch link (anyone with it can watch, nothing more)",
    rtmp_urls: "RTMP addresses with stream key, one per line (optional)",
    live_hls: "Also stream as HLS",
    hls_link: "HLS link (for players and CDNs)",
    rtmp_connecting: "connecting…",
    rtmp_sending: "sending",
    rtmp_failing: "failing",
    rtmp_retry_in: "next try, seconds:",
    encoder_name: "Encoder or camera name (OBS, ffmpeg…)",
    add_encoder: "Let an encoder in",
    whip_token: "Bearer token for the encoder",
    camera_url: "RTSP camera address (uses the name above)",
    add_camera: "Add the camera",
    camera_failed: "Could not add the camera",
    live_unavailable: "Could not go live",
    watch_title: "Live",
    watch_waiting: "The live has not started yet, or the stage is getting ready. This page starts playing by itself.",
    watch_ended: "This live has ended, or the link is no longer valid.",
    watch_connecting: "Connecting…",
    watch_failed: "Could not play the live; trying again.",
    watch_viewers: "watching",
    watch_unmute: "Turn the sound on",
    watch_no_token: "This watch link is incomplete: ask for the full link.",
    mute_requested: "The host asks you to mute your microphone.",
    err_removed: "The host removed you from this meeting.",
    err_removed_rejoin: "The host removed you from this meeting; you cannot join it again.",
    err_meeting_ended: "The host ended the meeting for everyone.",
    err_room_locked: "The host has locked this meeting, so nobody new can join. Ask the host to unlock it.",
    err_too_many_attempts: "Too many wrong passwords from your network. Wait a minute, then try again.",
    err_invalid_token: "This meeting link is not valid here. Ask for a new link.",
    err_token_expired: "This meeting link has expired. Ask for a new link.",
    err_turn_refused: "Could not connect through the TURN relay: it refused the credentials. The administrator must give meshmeet (--turn-secret) the same secret as the TURN server (static-auth-secret).",
    err_turn_unreachable: "Could not connect through the TURN relay: no relay address could be obtained. Check that the TURN server runs and can be reached, or turn off relay-only.",
};

/// Simplified Chinese.
pub const ZH: Strings = Strings {
    app_tagline: "在浏览器里开私密视频会议，无需安装任何软件。",
    start_meeting: "发起新会议",
    join_with_code: "或加入会议",
    room_code_label: "会议号",
    go: "进入",
    invalid_room_code: "只能使用字母、数字、- _ 或 .（最多 64 个）。",
    language: "语言",
    lobby_title: "准备好加入了吗？",
    your_name: "你的名字",
    name_placeholder: "其他人看到的名字",
    join: "加入会议",
    joining: "正在加入…",
    camera: "摄像头",
    microphone: "麦克风",
    speaker: "扬声器",
    default_device: "默认",
    camera_preview: "摄像头预览",
    mic_level: "麦克风音量",
    turn_camera_on: "打开摄像头",
    turn_camera_off: "关闭摄像头",
    unmute: "打开麦克风",
    mute: "静音",
    leave: "离开会议",
    participants: "参会者",
    settings: "设备",
    audio_only: "只接收音频（节省带宽）",
    connection_quality: "连接",
    quality_good: "良好",
    quality_fair: "一般",
    quality_poor: "较差",
    show_stats: "连接详情",
    stats_title: "连接到",
    sent: "发送",
    received: "接收",
    bitrate: "码率",
    loss: "丢包",
    jitter: "抖动",
    rtt: "往返时延",
    frame_rate: "帧率",
    resolution: "分辨率",
    limited_by: "受限于",
    route: "路径",
    graph_label: "最近一分钟的视频码率和往返时延",
    own_connection_poor: "你的网络较差，视频质量已降低。请关闭其他占用网络的程序，或关闭摄像头。",
    measuring: "测量中…",
    chat: "聊天",
    chat_message_label: "消息",
    chat_placeholder: "输入消息",
    send: "发送",
    no_messages: "还没有消息。消息直接发送给其他人，不经过服务器。",
    files: "文件",
    send_file_to: "发送文件给",
    everyone: "所有人",
    choose_file: "选择或拖入文件",
    cancel: "取消",
    download: "下载",
    to_peer: "发给",
    from_peer: "来自",
    transfer_active: "传输中",
    transfer_done: "完成",
    transfer_cancelled: "已取消",
    transfer_failed: "失败",
    unread: "未读",
    screen_of: "共享的屏幕",
    share_screen: "共享屏幕",
    stop_sharing: "停止共享",
    err_screen: "屏幕共享未能开始。请选择一个屏幕、窗口或标签页，或在浏览器设置中允许共享。",
    invite_link: "邀请链接",
    copy_link: "复制链接",
    copied: "已复制",
    you: "你",
    mic_off: "麦克风已关闭",
    camera_off: "摄像头已关闭",
    waiting_for_others: "等待其他人加入。把邀请链接发给他们吧。",
    enable_sound: "点击开启声音",
    conn_connecting: "连接中…",
    conn_connected: "已连接",
    conn_reconnecting: "重新连接中…",
    conn_failed: "连接失败",
    err_permission_denied: "摄像头或麦克风权限被拒绝。请在地址栏中允许，或不使用它们直接加入。",
    err_no_device: "没有找到摄像头或麦克风。请接上设备，或不使用它直接加入。",
    err_device_in_use: "摄像头或麦克风正被其他程序占用。请关闭该程序，或不使用它直接加入。",
    err_insecure_context: "摄像头只能在 https:// 页面或 localhost 上使用。请让管理员启用 HTTPS。",
    err_unsupported: "这个浏览器无法使用摄像头或麦克风。",
    err_media_other: "无法启动摄像头或麦克风。",
    join_anyway_hint: "你仍然可以加入：其他人只会看到或听到你分享的内容。",
    retry_devices: "重试",
    err_room_full: "会议人数已满。请联系主持人，或发起另一个会议。",
    err_wrong_password: "会议密码错误。",
    err_version: "页面版本过旧，请刷新后再加入。",
    err_invalid_name: "名字为空、太长，或包含不允许的字符。",
    err_invalid_room: "这个会议链接无效。",
    err_relay_unreachable: "无法连接会议服务器。请检查网络后重试。",
    err_relay_lost: "与会议服务器的连接已断开。",
    reconnecting: "与会议服务器的连接已断开，正在重新连接…通话仍在继续。",
    err_relay_other: "会议服务器拒绝了请求。",
    dismiss: "关闭",
    left_title: "你已离开会议。",
    rejoin: "重新加入",
    back_home: "返回首页",
    connecting_to_room: "正在连接会议…",
    meeting_controls: "会议控制",
    video_grid: "参会者视频",
    view_grid: "宫格视图",
    view_speaker: "演讲者视图",
    pin: "固定到主画面",
    unpin: "取消固定",
    full_screen: "全屏",
    minimise_self: "最小化自己的画面",
    restore_self: "显示自己的画面",
    toast_joined: "加入了会议",
    toast_left: "离开了会议",
    close: "关闭",
    muted_while_speaking: "你处于静音状态。按 M 键或麦克风按钮即可发言。",
    shortcuts_title: "键盘快捷键",
    sc_mic: "静音或取消静音",
    sc_camera: "开启或关闭摄像头",
    sc_screen: "共享屏幕或停止共享",
    sc_chat: "打开或关闭聊天",
    sc_view: "在宫格视图和演讲者视图之间切换",
    sc_help: "显示此列表",
    sc_leave: "离开会议",
    title_muted: "已静音",
    qr_code: "邀请链接的 QR 二维码（用手机扫描）",
    password_label: "会议密码（可选）",
    password_hint: "第一个进入的人设定密码，之后的人需要输入相同的密码。",
    relay_only: "只通过 TURN 中继连接（其他人看不到你的 IP 地址）",
    name_from_link: "你的名字来自会议链接。",
    host: "主持人",
    host_controls: "主持人控制",
    lock_room: "锁定会议（新的人无法加入）",
    room_locked: "会议已锁定",
    remove_participant: "移出会议：",
    ask_to_mute: "请求静音：",
    make_host: "设为主持人：",
    end_for_all: "为所有人结束会议",
    live: "直播中",
    live_on_stage: "台上：",
    live_stage_pick: "谁在台上",
    live_follow_speaker: "谁发言就是谁",
    live_follows_speaker: "跟随发言者",
    go_live: "开始直播",
    stop_live: "结束直播",
    watch_link: "观看链接（持有者只能观看）",
    rtmp_urls: "RTMP 推流地址（含串流密钥，每行一个，可选）",
    live_hls: "同时输出 HLS",
    hls_link: "HLS 链接（供播放器和 CDN 使用）",
    rtmp_connecting: "正在连接…",
    rtmp_sending: "正在推流",
    rtmp_failing: "推流失败",
    rtmp_retry_in: "下次重试（秒）：",
    encoder_name: "编码器或摄像机名称（OBS、ffmpeg…）",
    add_encoder: "允许编码器推流",
    whip_token: "编码器的 Bearer 令牌",
    camera_url: "RTSP 摄像机地址（使用上面的名称）",
    add_camera: "添加摄像机",
    camera_failed: "无法添加摄像机",
    live_unavailable: "无法开始直播",
    watch_title: "直播",
    watch_waiting: "直播尚未开始，或台上正在准备。本页面会自动开始播放。",
    watch_ended: "本场直播已结束，或链接已失效。",
    watch_connecting: "正在连接…",
    watch_failed: "无法播放直播，正在重试。",
    watch_viewers: "人正在观看",
    watch_unmute: "打开声音",
    watch_no_token: "观看链接不完整，请索取完整链接。",
    mute_requested: "主持人请你关闭麦克风。",
    err_removed: "主持人已将你移出会议。",
    err_removed_rejoin: "主持人已将你移出本会议，你无法再次加入。",
    err_meeting_ended: "主持人已为所有人结束会议。",
    err_room_locked: "主持人已锁定会议，新的人无法加入。请联系主持人解锁。",
    err_too_many_attempts: "你的网络输错密码的次数过多。请等待一分钟后再试。",
    err_invalid_token: "这个会议链接在这里无效。请索取新的链接。",
    err_token_expired: "这个会议链接已过期。请索取新的链接。",
    err_turn_refused: "无法通过 TURN 中继连接：中继服务器拒绝了凭据。管理员需要让 meshmeet（--turn-secret）与 TURN 服务器（static-auth-secret）使用相同的密钥。",
    err_turn_unreachable: "无法通过 TURN 中继连接：没有获得中继地址。请检查 TURN 服务器是否在运行且可以访问，或关闭“只通过中继连接”。",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_language_tags_pick_the_right_language() {
        assert_eq!(Lang::from_tag("zh-CN"), Lang::Zh);
        assert_eq!(Lang::from_tag("zh-Hans-CN"), Lang::Zh);
        assert_eq!(Lang::from_tag("ZH"), Lang::Zh);
        assert_eq!(Lang::from_tag("en-US"), Lang::En);
        assert_eq!(Lang::from_tag("de-DE"), Lang::En);
    }

    #[test]
    fn the_two_languages_differ_and_have_no_empty_string() {
        // Debug output lists every field: an empty value shows up as `""`.
        for lang in Lang::ALL {
            let dump = format!("{:?}", lang.strings());
            assert!(!dump.contains("\"\""), "{lang:?} has an empty string");
        }
        assert_ne!(EN.join, ZH.join);
    }
}
