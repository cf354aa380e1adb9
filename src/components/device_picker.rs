//! A `<select>` of the devices of one kind.

use crate::i18n::use_strings;
use crate::media::Device;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// Props of [`DevicePicker`].
#[derive(Properties, PartialEq)]
pub struct DevicePickerProps {
    /// Visible label.
    pub label: AttrValue,
    /// `data-testid` of the select.
    pub testid: AttrValue,
    /// The devices of this kind.
    pub devices: Vec<Device>,
    /// The chosen one (`None`: the default).
    pub selected: Option<String>,
    /// A device was chosen.
    pub on_change: Callback<String>,
}

/// Device chooser; hidden while there is nothing to choose from.
#[function_component(DevicePicker)]
pub fn device_picker(props: &DevicePickerProps) -> Html {
    let s = use_strings();
    let onchange = {
        let on_change = props.on_change.clone();
        Callback::from(move |e: Event| {
            if let Some(select) = e.target_dyn_into::<HtmlSelectElement>() {
                on_change.emit(select.value());
            }
        })
    };
    let id = format!("select-{}", props.testid);
    html! {
        <div class="field">
            <label for={id.clone()}>{ &props.label }</label>
            <select {id} data-testid={props.testid.clone()} {onchange}
                disabled={props.devices.is_empty()}>
                if props.selected.is_none() {
                    <option value="" selected=true>{ s.default_device }</option>
                }
                { for props.devices.iter().enumerate().map(|(i, d)| {
                    let label = if d.label.is_empty() { format!("{} {}", props.label, i + 1) } else { d.label.clone() };
                    let selected = props.selected.as_deref() == Some(d.id.as_str());
                    html! { <option value={d.id.clone()} {selected}>{ label }</option> }
                }) }
            </select>
        </div>
    }
}
