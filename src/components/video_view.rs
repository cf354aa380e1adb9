//! A `<video>` element showing a `MediaStream`, with the autoplay rules handled.

use crate::media::set_audio_output;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{HtmlVideoElement, MediaStream};
use yew::prelude::*;

/// Props of [`VideoView`].
#[derive(Properties, PartialEq)]
pub struct VideoViewProps {
    /// What to show (nothing while `None`).
    pub stream: Option<MediaStream>,
    /// Silence it (own preview: never play your own microphone back).
    #[prop_or_default]
    pub muted: bool,
    /// Show it mirrored, as people expect of their own camera.
    #[prop_or_default]
    pub mirrored: bool,
    /// Accessible name.
    pub label: AttrValue,
    /// `data-testid` of the element.
    #[prop_or_default]
    pub testid: Option<AttrValue>,
    /// Speaker to play on, where the browser lets us choose.
    #[prop_or_default]
    pub sink_id: Option<String>,
    /// Called when the browser refused to play sound without a click (the video then plays
    /// muted until [`VideoViewProps::muted`] is set again by the owner).
    #[prop_or_default]
    pub on_sound_blocked: Callback<()>,
}

/// A video element bound to a stream.
#[function_component(VideoView)]
pub fn video_view(props: &VideoViewProps) -> Html {
    let node = use_node_ref();
    {
        let node = node.clone();
        let muted = props.muted;
        let on_blocked = props.on_sound_blocked.clone();
        use_effect_with((props.stream.clone(), muted), move |(stream, muted)| {
            if let Some(video) = node.cast::<HtmlVideoElement>() {
                // `muted` must be the property: the attribute only sets the default.
                video.set_muted(*muted);
                video.set_src_object(stream.as_ref());
                if stream.is_some() {
                    spawn_local(play(video, on_blocked));
                }
            }
        });
    }
    {
        let node = node.clone();
        use_effect_with(props.sink_id.clone(), move |sink| {
            if let (Some(video), Some(sink)) = (node.cast::<HtmlVideoElement>(), sink.clone()) {
                spawn_local(async move {
                    let _ = set_audio_output(&video, &sink).await;
                });
            }
        });
    }
    let class = classes!("video", props.mirrored.then_some("mirrored"));
    html! {
        <video ref={node} {class} autoplay=true playsinline=true
            aria-label={props.label.clone()}
            data-testid={props.testid.clone()} />
    }
}

/// Starts playback; where sound is refused before a click, plays muted instead and says so.
async fn play(video: HtmlVideoElement, on_blocked: Callback<()>) {
    let Ok(promise) = video.play() else {
        return;
    };
    if let Err(err) = JsFuture::from(promise).await {
        let err = crate::js::JsError::from(err);
        if err.name == "NotAllowedError" && !video.muted() {
            video.set_muted(true);
            if let Ok(promise) = video.play() {
                let _ = JsFuture::from(promise).await;
            }
            on_blocked.emit(());
        }
        // AbortError: a newer stream replaced this one; nothing to do.
    }
}
