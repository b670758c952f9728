//! The Messages page (`/panel/sms`): one tenant's SMS as its managers see it. The day's
//! counts; the language its customers are written to in; every event (`domain::sms::Event`)
//! with whether it is sent, a switch (but for the sign-in code, which is always sent), the
//! placeholders it may use, and its English and Bangla texts as they go out (the tenant's
//! own or the default, the parts and the encoding) with a form to write its own or put the
//! default back; and the latest messages of the outbox, numbers masked.
//!
//! Everything goes through `ops::sms` and `ops::sms::template`, which decide who may (the
//! tenant's settings managers); this module only chooses the tenant: a platform user names
//! it (`?tenant_id=`, or `?tenant=`) or gets its first one; everyone else works in its own.
//! Gateways stay with the API (`web::sms::api`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::i18n::Tr;
use crate::page::form::{Filled, PanelForm, ShowsForm, show_again};
use crate::page::input;
use crate::page::lookup::{self, Choice};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, render};
use crate::state::AppState;
use domain::customer::Msisdn;
use domain::field::{FieldError, FieldErrors};
use domain::ids::TenantId;
use domain::sms::{Encoding, Event, Lang};
use ops::OpError;
use ops::sms::template::TemplateView;
use store::list::PageRequest;
use store::sms::{Message, MessageFilter};

/// The latest messages the page lists.
const RECENT: u64 = 50;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/sms", get(page))
        .route("/panel/sms/language", post(set_language))
        .route("/panel/sms/events/{event}", post(set_event))
        .route("/panel/sms/templates/{event}/{lang}", post(set_template))
}

/// The tenant a platform user named, on the page and on each of its forms.
#[derive(Debug, Default, Deserialize)]
struct TenantQuery {
    #[serde(alias = "tenant")]
    tenant_id: Option<String>,
}

impl TenantQuery {
    /// The tenant named, if any.
    fn id(&self) -> Option<i64> {
        input::id(self.tenant_id.as_deref())
    }

    /// The page's address, naming the tenant when one was named.
    fn page(&self) -> String {
        match self.id() {
            Some(id) => format!("/panel/sms?tenant_id={id}"),
            None => "/panel/sms".to_owned(),
        }
    }
}

/// The day's messages as the page shows them.
#[derive(Debug)]
struct Today {
    total: u64,
    waiting: u64,
    sent: u64,
    delivered: u64,
    failed: u64,
    /// The day's budget of the gateway in use; empty: no gateway.
    budget: String,
}

/// One event's text in one language.
#[derive(Debug)]
struct TextRow {
    /// `en` or `bn`, as the form's path names it.
    lang: &'static str,
    /// The language's name, translated.
    lang_name: &'static str,
    /// The textarea's name: `text_{event}_{lang}`.
    field: String,
    /// The tenant's own text (else the default).
    custom: bool,
    /// The text with examples filled in.
    sample: String,
    parts: String,
    /// The encoding's name, translated.
    encoding: &'static str,
}

/// One event as a row.
#[derive(Debug)]
struct EventRow {
    /// Its stored name (`recharge`), as the forms' paths name it.
    code: &'static str,
    /// Its name, translated.
    name: &'static str,
    /// Whether the tenant sends its messages.
    on: bool,
    /// Always sent (the sign-in code): no switch.
    required: bool,
    /// The placeholders its texts may use, written `{name}`.
    placeholders: Vec<String>,
    texts: Vec<TextRow>,
}

/// A message of the outbox as a row.
#[derive(Debug)]
struct MessageRow {
    id: i64,
    at: String,
    /// The number, its middle digits masked.
    number: String,
    kind: String,
    /// The stored status (for styling).
    status_code: String,
    status: String,
    parts: i32,
    error: String,
}

#[derive(Template)]
#[template(path = "sms.html")]
struct SmsPage {
    ui: Ui,
    /// The tenants a platform user may pick from (empty for everyone else).
    tenants: Vec<Choice>,
    /// The tenant shown, as the picker holds it (empty: none to show).
    tenant_id: String,
    tenant_name: String,
    /// What each form's address carries to name the tenant: `?tenant_id=7`, or nothing.
    query: String,
    today: Option<Today>,
    /// The languages customers may be written to in: `(code, name)`.
    langs: Vec<(&'static str, &'static str)>,
    events: Vec<EventRow>,
    messages: Vec<MessageRow>,
    f: Filled,
}

impl ShowsForm for SmsPage {
    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

/// The textarea of `event`'s text in `lang`.
fn text_field(event: Event, lang: Lang) -> String {
    format!("text_{}_{}", event.as_str(), lang.as_str())
}

fn lang_name(t: Tr, lang: Lang) -> &'static str {
    match lang {
        Lang::En => t.t("sms.lang_en"),
        Lang::Bn => t.t("sms.lang_bn"),
    }
}

fn encoding_name(t: Tr, encoding: Encoding) -> &'static str {
    match encoding {
        Encoding::Gsm7 => t.t("sms.encoding_gsm7"),
        Encoding::Ucs2 => t.t("sms.encoding_ucs2"),
    }
}

/// A stored name (`kind`, `status`) translated under `prefix`, if it is one of `known`;
/// else as stored.
fn named(t: Tr, prefix: &str, known: &[&str], value: &str) -> String {
    if known.contains(&value) {
        t.t(&format!("{prefix}{value}")).to_owned()
    } else {
        value.to_owned()
    }
}

/// A stored E.164 number as dialled in its country, masked.
fn masked_number(e164: &str) -> String {
    let national = Msisdn::stored(e164).national();
    crate::page::ui::masked(if national.is_empty() { e164 } else { &national })
}

fn event_row(t: Tr, event: Event, views: &[TemplateView]) -> EventRow {
    let mine: Vec<&TemplateView> = views.iter().filter(|v| v.event == event).collect();
    EventRow {
        code: event.as_str(),
        name: t.t(&format!("sms.event_{}", event.as_str())),
        on: mine.iter().all(|v| v.on),
        required: event.required(),
        placeholders: event
            .placeholders()
            .iter()
            .map(|p| format!("{{{p}}}"))
            .collect(),
        texts: mine
            .iter()
            .map(|v| TextRow {
                lang: v.lang.as_str(),
                lang_name: lang_name(t, v.lang),
                field: text_field(event, v.lang),
                custom: v.custom,
                sample: v.preview.sample.clone(),
                parts: t.t1("sms.parts", "n", &v.preview.parts.to_string()),
                encoding: encoding_name(t, v.preview.encoding),
            })
            .collect(),
    }
}

fn message_row(t: Tr, zone: chrono_tz::Tz, m: &Message) -> MessageRow {
    MessageRow {
        id: m.id,
        at: input::local_time_text(Some(m.created_at), zone),
        number: masked_number(&m.to_number),
        kind: named(t, "sms.kind_", &ops::sms::KINDS, &m.kind),
        status_code: m.status.clone(),
        status: named(t, "sms.status_", &ops::sms::STATUSES, &m.status),
        parts: m.parts,
        error: m.last_error.clone().unwrap_or_default(),
    }
}

/// The tenant the page is about: the one named, else the user's own, else (a platform
/// user) the first it may pick; `None` when there is none.
fn chosen(user: &PanelUser, named: Option<i64>, tenants: &[Choice]) -> Option<i64> {
    named
        .or(user.actor.tenant_id.map(|t| t.0))
        .or_else(|| tenants.first().and_then(|(id, _)| id.parse().ok()))
}

async fn build(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    query: &TenantQuery,
) -> Result<SmsPage, OpError> {
    let ctx = state.ctx();
    let actor = &user.actor;
    let ui = Ui::new(user, Section::Sms, headers, &query.page());
    let t = ui.t;
    let tenants = lookup::tenant_choices(state, actor).await?;
    let mut page = SmsPage {
        ui,
        query: String::new(),
        tenant_id: String::new(),
        tenant_name: String::new(),
        today: None,
        langs: Lang::ALL
            .iter()
            .map(|l| (l.as_str(), lang_name(t, *l)))
            .collect(),
        events: Vec::new(),
        messages: Vec::new(),
        f: Filled::new(),
        tenants,
    };
    let Some(id) = chosen(user, query.id(), &page.tenants) else {
        return Ok(page);
    };
    let (lang, views) = ops::sms::template::templates(&ctx, actor, id).await?;
    let tenant = ops::tenant::get(&ctx, actor, TenantId(id)).await?;
    let today = ops::sms::sent_today(&ctx, actor, TenantId(id)).await?;
    let filter = MessageFilter {
        tenant_id: Some(id),
        ..MessageFilter::default()
    };
    let recent = PageRequest::first(&store::sms::LIST, RECENT).map_err(OpError::Invalid)?;
    let messages = ops::sms::messages(&ctx, actor, &filter, &recent).await?;
    let zone = input::zone_of(&tenant.time_zone);

    if !page.tenants.is_empty() {
        page.query = format!("?tenant_id={id}");
    }
    page.tenant_id = id.to_string();
    page.tenant_name = tenant.name;
    page.today = Some(Today {
        total: today.total,
        waiting: today.queued,
        sent: today.sent,
        delivered: today.delivered,
        failed: today.failed,
        budget: today.budget.map(|b| b.to_string()).unwrap_or_default(),
    });
    page.f.set("lang", lang.as_str());
    for view in &views {
        page.f
            .set(&text_field(view.event, view.lang), view.text.clone());
    }
    page.events = Event::ALL
        .iter()
        .map(|e| event_row(t, *e, &views))
        .collect();
    page.messages = messages
        .items
        .iter()
        .map(|m| message_row(t, zone, m))
        .collect();
    Ok(page)
}

/// `GET /panel/sms`.
async fn page(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<TenantQuery>,
) -> Response {
    match build(&state, &user, &headers, &query).await {
        Ok(page) => render(&page),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// The answer to a form: back to the page (at `anchor`) saying it was saved, the page
/// again with why it was refused, or the error.
async fn answered(
    state: &AppState,
    form: &PanelForm,
    query: &TenantQuery,
    anchor: &str,
    result: Result<(), OpError>,
) -> Response {
    match result {
        Ok(()) => ui::redirect_with(&format!("{}{anchor}", query.page()), "flash.saved"),
        Err(OpError::Invalid(errors)) => {
            let page = build(state, &form.user, &form.headers, query).await;
            show_again(page, &form.user, &form.headers, &form.form, &errors)
        }
        Err(error) => ui::op_error(&form.user, &form.headers, &error),
    }
}

/// The tenant a form is about, as the page chose it.
async fn tenant_of(
    state: &AppState,
    user: &PanelUser,
    query: &TenantQuery,
) -> Result<i64, OpError> {
    let tenants = if query.id().is_some() || user.actor.tenant_id.is_some() {
        Vec::new()
    } else {
        lookup::tenant_choices(state, &user.actor).await?
    };
    chosen(user, query.id(), &tenants).ok_or(OpError::NotFound)
}

/// `POST /panel/sms/language`: the language customers are written to in (`lang`).
async fn set_language(
    State(state): State<AppState>,
    Query(query): Query<TenantQuery>,
    form: PanelForm,
) -> Response {
    let result = async {
        let tenant = tenant_of(&state, &form.user, &query).await?;
        let lang = Lang::parse(form.form.text("lang"))
            .ok_or_else(|| OpError::field("lang", "unknown_lang"))?;
        let (actor, author) = (&form.user.actor, form.user.author.clone());
        ops::sms::template::set_language(&state.ctx(), actor, author, tenant, lang).await
    };
    let result = result.await;
    answered(&state, &form, &query, "", result).await
}

/// `POST /panel/sms/events/{event}`: switches the event's messages on (`on=true`) or off
/// (`on=false`).
async fn set_event(
    State(state): State<AppState>,
    Path(event): Path<String>,
    Query(query): Query<TenantQuery>,
    form: PanelForm,
) -> Response {
    let Some(event) = Event::parse(&event) else {
        return ui::error_page(
            &form.user,
            &form.headers,
            StatusCode::NOT_FOUND,
            "error.not_found",
        );
    };
    let result = async {
        let tenant = tenant_of(&state, &form.user, &query).await?;
        let on = match form.form.text("on") {
            "true" => true,
            "false" => false,
            _ => return Err(OpError::field("event", "invalid")),
        };
        let (actor, author) = (&form.user.actor, form.user.author.clone());
        ops::sms::template::set_event(&state.ctx(), actor, author, tenant, event, on).await
    };
    let result = result.await;
    let anchor = format!("#event-{}", event.as_str());
    answered(&state, &form, &query, &anchor, result).await
}

/// `POST /panel/sms/templates/{event}/{lang}`: the tenant's own text of the event in the
/// language (`text_{event}_{lang}`), or the default back (`action=reset`). A refused text
/// comes back beside its textarea, as typed.
async fn set_template(
    State(state): State<AppState>,
    Path((event, lang)): Path<(String, String)>,
    Query(query): Query<TenantQuery>,
    form: PanelForm,
) -> Response {
    let (Some(event), Some(lang)) = (Event::parse(&event), Lang::parse(&lang)) else {
        return ui::error_page(
            &form.user,
            &form.headers,
            StatusCode::NOT_FOUND,
            "error.not_found",
        );
    };
    let field = text_field(event, lang);
    let text = (form.form.text("action") != "reset").then(|| form.form.text(&field));
    let result = async {
        let tenant = tenant_of(&state, &form.user, &query).await?;
        let (actor, author) = (&form.user.actor, form.user.author.clone());
        ops::sms::template::set_template(&state.ctx(), actor, author, tenant, (event, lang), text)
            .await
            .map(|_| ())
    };
    let result = result.await.map_err(|error| beside(error, &field));
    let anchor = format!("#event-{}", event.as_str());
    answered(&state, &form, &query, &anchor, result).await
}

/// A refused text's errors put beside its textarea `field`.
fn beside(error: OpError, field: &str) -> OpError {
    let OpError::Invalid(errors) = error else {
        return error;
    };
    let moved = errors
        .0
        .into_iter()
        .map(|e| match e.field.as_str() {
            "template" => FieldError {
                field: field.to_owned(),
                ..e
            },
            _ => e,
        })
        .collect();
    OpError::Invalid(FieldErrors(moved))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_shows_its_first_and_last_three_digits() {
        assert_eq!(masked_number("+8801712345678"), "017•••••678");
        assert_eq!(crate::page::ui::masked("12345"), "12345");
    }

    #[test]
    fn a_refused_text_is_said_beside_its_own_textarea() {
        let refused = OpError::Invalid(FieldErrors(vec![
            FieldError::new("template", "unknown_placeholder").with("name", "nme"),
        ]));
        let OpError::Invalid(errors) = beside(refused, "text_recharge_bn") else {
            panic!("still a form mistake");
        };
        assert_eq!(errors.0[0].field, "text_recharge_bn");
        assert_eq!(errors.0[0].code, "unknown_placeholder");
    }
}
