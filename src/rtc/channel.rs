//! The data channels of a link: chat (text) and files (text control messages and binary
//! chunks). Both are pre-negotiated with fixed ids, so they need no signalling of their own.

use super::RtcError;
use crate::js::JsError;
use futures_channel::oneshot;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{
    Event, MessageEvent, RtcDataChannel, RtcDataChannelInit, RtcDataChannelState,
    RtcDataChannelType, RtcPeerConnection,
};

/// Below this many buffered bytes a paused sender resumes (`bufferedAmountLowThreshold`).
pub const BUFFER_LOW_BYTES: u32 = 256 * 1024;
/// Above this many buffered bytes a sender pauses until the buffer drains.
pub const BUFFER_HIGH_BYTES: u32 = 1024 * 1024;

/// Which data channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Chat messages.
    Chat,
    /// File transfers.
    Files,
}

impl Channel {
    /// Both channels.
    pub const ALL: [Channel; 2] = [Channel::Chat, Channel::Files];

    fn id(self) -> u16 {
        match self {
            Channel::Chat => 0,
            Channel::Files => 1,
        }
    }

    pub(crate) fn index(self) -> usize {
        usize::from(self.id())
    }

    fn label(self) -> &'static str {
        match self {
            Channel::Chat => "chat",
            Channel::Files => "files",
        }
    }
}

/// A message received on a data channel.
#[derive(Clone, Debug)]
pub enum ChannelData {
    /// A text message.
    Text(String),
    /// A binary message (kept in JavaScript memory).
    Binary(js_sys::Uint8Array),
}

/// What a channel reports to its link.
pub(crate) enum ChannelEvent {
    Open(Channel),
    Data(Channel, ChannelData),
}

/// A cheap, cloneable handle for sending on one data channel.
#[derive(Clone)]
pub struct DataSender {
    channel: RtcDataChannel,
    waiting: Rc<RefCell<Vec<oneshot::Sender<()>>>>,
}

impl DataSender {
    /// Whether messages can be sent now.
    pub fn is_open(&self) -> bool {
        self.channel.ready_state() == RtcDataChannelState::Open
    }

    /// Sends a text message.
    pub fn send_text(&self, text: &str) -> Result<(), RtcError> {
        self.channel
            .send_with_str(text)
            .map_err(|e| RtcError::Channel(JsError::from(e)))
    }

    /// Sends a binary message.
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), RtcError> {
        self.channel
            .send_with_u8_array(bytes)
            .map_err(|e| RtcError::Channel(JsError::from(e)))
    }

    /// Bytes queued but not yet sent.
    pub fn buffered(&self) -> u32 {
        self.channel.buffered_amount()
    }

    /// Waits until the send buffer has drained below [`BUFFER_LOW_BYTES`] (at once if it
    /// already has). Returns `false` if the channel closed meanwhile.
    pub async fn drained(&self) -> bool {
        if self.channel.buffered_amount() <= BUFFER_LOW_BYTES {
            return self.is_open();
        }
        let (tx, rx) = oneshot::channel();
        self.waiting.borrow_mut().push(tx);
        rx.await.is_ok() && self.is_open()
    }
}

/// One open (or opening) data channel with its event handlers.
pub(crate) struct OwnedChannel {
    sender: DataSender,
    _handlers: Vec<Closure<dyn FnMut(Event)>>,
}

impl OwnedChannel {
    /// Creates the pre-negotiated channel `which` on `pc`; events go to `on_event`.
    pub(crate) fn open(
        pc: &RtcPeerConnection,
        which: Channel,
        on_event: Rc<dyn Fn(ChannelEvent)>,
    ) -> Self {
        let init = RtcDataChannelInit::new();
        init.set_negotiated(true);
        init.set_id(which.id());
        init.set_ordered(true);
        let channel = pc.create_data_channel_with_data_channel_dict(which.label(), &init);
        channel.set_binary_type(RtcDataChannelType::Arraybuffer);
        channel.set_buffered_amount_low_threshold(BUFFER_LOW_BYTES);
        let waiting: Rc<RefCell<Vec<oneshot::Sender<()>>>> = Rc::default();

        let on_open = {
            let on_event = on_event.clone();
            Closure::<dyn FnMut(Event)>::new(move |_| on_event(ChannelEvent::Open(which)))
        };
        let on_message = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let event: MessageEvent = event.unchecked_into();
            let data = event.data();
            let data = match data.as_string() {
                Some(text) => ChannelData::Text(text),
                None => ChannelData::Binary(js_sys::Uint8Array::new(&data)),
            };
            on_event(ChannelEvent::Data(which, data));
        });
        // Wakes every paused sender; also on close, so none waits forever.
        let wake = {
            let waiting = waiting.clone();
            Closure::<dyn FnMut(Event)>::new(move |_| {
                for tx in waiting.borrow_mut().drain(..) {
                    let _ = tx.send(());
                }
            })
        };
        channel.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        channel.set_onbufferedamountlow(Some(wake.as_ref().unchecked_ref()));
        channel.set_onclose(Some(wake.as_ref().unchecked_ref()));
        OwnedChannel {
            sender: DataSender { channel, waiting },
            _handlers: vec![on_open, on_message, wake],
        }
    }

    pub(crate) fn sender(&self) -> DataSender {
        self.sender.clone()
    }
}

impl Drop for OwnedChannel {
    fn drop(&mut self) {
        let channel = &self.sender.channel;
        channel.set_onopen(None);
        channel.set_onmessage(None);
        channel.set_onbufferedamountlow(None);
        channel.set_onclose(None);
        channel.close();
        // Paused senders see the channel closed.
        self.sender.waiting.borrow_mut().clear();
    }
}
