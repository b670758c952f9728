//! What messages say, at the edge (`ops::sms::template`):
//!
//! - `GET /api/v1/tenants/{id}/sms-templates`: every event's text in English and Bangla as
//!   the tenant sends it (its own or the default), with the placeholders it may use and how
//!   it goes out (an example, the encoding, the parts), and the tenant's language.
//! - `PUT /api/v1/tenants/{id}/sms-templates/{event}/{lang}`: the tenant's own text of an
//!   event (`{"text": null}`: back to the default).
//! - `PUT /api/v1/tenants/{id}/sms-events/{event}`: whether the tenant sends messages for
//!   an event (`{"on": false}`: none; the sign-in code cannot be switched off).
//! - `PUT /api/v1/tenants/{id}/sms-language`: the language its customers are written to in.
//! - `POST /api/v1/sms-templates/preview`: how a text would go out, before it is saved.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::http::path::Id;
use crate::state::AppState;
use domain::field::FieldError;
use domain::sms::{Encoding, Event, Lang};
use ops::sms::template::{Preview, TemplateView};

/// The API routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates))
        .routes(routes!(set_template))
        .routes(routes!(set_event))
        .routes(routes!(set_language))
        .routes(routes!(preview))
}

/// How a text goes out.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewOut {
    /// The text with each placeholder filled with an example.
    sample: String,
    /// `gsm7`, or `ucs2` (Bangla, most emoji: fewer characters a part).
    encoding: Encoding,
    /// Its length in that encoding's units.
    units: usize,
    /// The parts it is sent (and billed) in.
    parts: usize,
}

impl From<Preview> for PreviewOut {
    fn from(p: Preview) -> Self {
        PreviewOut {
            sample: p.sample,
            encoding: p.encoding,
            units: p.units,
            parts: p.parts,
        }
    }
}

/// One event's text in one language.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateOut {
    event: Event,
    lang: Lang,
    text: String,
    /// The tenant's own text (else the default).
    custom: bool,
    /// Whether the tenant sends messages for the event.
    on: bool,
    /// The placeholders it may use, each written `{name}`.
    placeholders: Vec<String>,
    preview: PreviewOut,
}

impl From<TemplateView> for TemplateOut {
    fn from(v: TemplateView) -> Self {
        TemplateOut {
            event: v.event,
            lang: v.lang,
            text: v.text,
            custom: v.custom,
            on: v.on,
            placeholders: v.placeholders,
            preview: v.preview.into(),
        }
    }
}

/// A tenant's texts and language.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplatesOut {
    /// The language its customers are written to in.
    lang: Lang,
    templates: Vec<TemplateOut>,
}

/// Every event's text in every language, as the tenant sends it.
#[utoipa::path(get, path = "/tenants/{id}/sms-templates", tag = "sms", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = TemplatesOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_templates(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<TemplatesOut>, ApiError> {
    let (lang, views) = ops::sms::template::templates(&state.ctx(), &caller.actor, id).await?;
    Ok(Json(TemplatesOut {
        lang,
        templates: views.into_iter().map(Into::into).collect(),
    }))
}

/// A tenant's own text of an event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    /// The text, with the event's placeholders (`{name}`), at most six parts; `null`: back
    /// to the default.
    text: Option<String>,
}

/// The event and language named in a path.
fn event_and_lang(event: &str, lang: &str) -> Result<(Event, Lang), ApiError> {
    let event = Event::parse(event)
        .ok_or_else(|| ApiError::from(FieldError::new("event", "unknown_event")))?;
    let lang =
        Lang::parse(lang).ok_or_else(|| ApiError::from(FieldError::new("lang", "unknown_lang")))?;
    Ok((event, lang))
}

/// Sets the tenant's own text of an event in a language, or puts back the default.
#[utoipa::path(put, path = "/tenants/{id}/sms-templates/{event}/{lang}", tag = "sms", security(("bearer" = [])),
    params(("id" = i64, Path), ("event" = String, Path), ("lang" = String, Path)), request_body = TemplateBody,
    responses((status = 200, body = TemplateOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_template(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, event, lang)): Path<(i64, String, String)>,
    JsonBody(body): JsonBody<TemplateBody>,
) -> Result<Json<TemplateOut>, ApiError> {
    let which = event_and_lang(&event, &lang)?;
    let view = ops::sms::template::set_template(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        which,
        body.text.as_deref(),
    )
    .await?;
    Ok(Json(view.into()))
}

/// Whether a tenant sends messages for an event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    /// `false`: no message for the event (its notices are skipped).
    on: bool,
}

/// Switches a tenant's messages for an event on or off.
#[utoipa::path(put, path = "/tenants/{id}/sms-events/{event}", tag = "sms", security(("bearer" = [])),
    params(("id" = i64, Path), ("event" = String, Path)), request_body = EventBody,
    responses((status = 200, body = EventBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_event(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, event)): Path<(i64, String)>,
    JsonBody(body): JsonBody<EventBody>,
) -> Result<Json<EventBody>, ApiError> {
    let event = Event::parse(&event)
        .ok_or_else(|| ApiError::from(FieldError::new("event", "unknown_event")))?;
    ops::sms::template::set_event(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        event,
        body.on,
    )
    .await?;
    Ok(Json(body))
}

/// The language a tenant's customers are written to in.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LanguageBody {
    /// `en` or `bn`.
    lang: Lang,
}

/// Sets the language a tenant's customers are written to in.
#[utoipa::path(put, path = "/tenants/{id}/sms-language", tag = "sms", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = LanguageBody,
    responses((status = 200, body = LanguageBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_language(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    JsonBody(body): JsonBody<LanguageBody>,
) -> Result<Json<LanguageBody>, ApiError> {
    ops::sms::template::set_language(&state.ctx(), &caller.actor, caller.author, id, body.lang)
        .await?;
    Ok(Json(body))
}

/// A text to preview.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    /// The event whose placeholders it may use.
    event: Event,
    /// The text.
    text: String,
}

/// How a text would go out as a template of an event: an example, its encoding and parts;
/// refused (422) as saving it would be.
#[utoipa::path(post, path = "/sms-templates/preview", tag = "sms", security(("bearer" = [])), request_body = PreviewBody,
    responses((status = 200, body = PreviewOut), (status = 422, body = ErrorBody)))]
async fn preview(
    _caller: ApiCaller,
    JsonBody(body): JsonBody<PreviewBody>,
) -> Result<Json<PreviewOut>, ApiError> {
    if body.text.chars().count() > 2000 {
        return Err(FieldError::new("text", "too_long").with("max", 2000).into());
    }
    Ok(Json(
        ops::sms::template::preview(body.event, &body.text)?.into(),
    ))
}
