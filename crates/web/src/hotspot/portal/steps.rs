//! The captive portal's posted steps (`POST /hs/{key}/mobile|voucher|code|choose|connect|
//! signup|card|device|take-over`, hotspot-design §1.5): each takes a [`PostedStep`], the
//! visit of the request with its CSRF token checked before the handler runs, asks
//! `ops::hotspot::visit` for the step, and answers with the next page, the step again with
//! why it was refused, or the 303 to the router's login ([`hand_off`]).
//!
//! The pages themselves are `super::page`'s; the visit's cookie and lookup are `super`'s.

use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::page::{PortalPage, csrf, page, status_of};
use super::{here, visit_of};
use crate::page::form::FormData;
use crate::state::AppState;
use domain::hotspot::Next;
use ops::OpError;
use ops::hotspot::visit::{self, Standing, Step};

/// A step posted on a live visit, its CSRF token checked: a handler that takes one cannot
/// forget the check. No live visit answers as [`visit_of`] does (the "gone" page: 401 without
/// a cookie or a live visit for it, 404 for an unknown portal, 500 when the lookup fails); a
/// missing or wrong token answers 403 with the "gone" page, before the handler runs.
pub(super) struct PostedStep {
    /// The portal's key, from the path.
    key: String,
    /// The request's headers (language, user agent, the visit's cookie).
    headers: HeaderMap,
    /// What was posted.
    form: FormData,
    /// The visit, as it was before the step.
    step: Step,
    /// The visit's cookie.
    token: String,
}

impl FromRequest<AppState> for PostedStep {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let Path(key) = Path::<String>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let form = FormData::from_request(Request::from_parts(parts, body), state).await?;
        let (step, token) = visit_of(state, &key, &headers).await?;
        if !ops::auth::token::same(form.text("_csrf"), &csrf(&token)) {
            let page_ = PortalPage::of(&step, &token, "gone");
            return Err(page(StatusCode::FORBIDDEN, &page_));
        }
        Ok(PostedStep {
            key,
            headers,
            form,
            step,
            token,
        })
    }
}

/// After a step: sign in when `decide` says so, else show the step.
async fn onward(
    state: &AppState,
    headers: &HeaderMap,
    step: &Step,
    token: &str,
    standing: Result<Standing, OpError>,
    retry: &'static str,
) -> Response {
    match standing {
        Ok(standing) => match standing.next {
            Next::SignIn { account, .. } => hand_off(state, headers, step, token, account).await,
            _ => here(&step.portal.portal_key).into_response(),
        },
        Err(error) => page(
            status_of(&error),
            &PortalPage::of(step, token, retry).with_error(&error),
        ),
    }
}

/// The 303 to the router's login.
async fn hand_off(
    state: &AppState,
    headers: &HeaderMap,
    step: &Step,
    token: &str,
    account: i64,
) -> Response {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match visit::hand_off(&state.ctx(), step, account, agent).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(error) => page(
            status_of(&error),
            &PortalPage::of(step, token, "mobile").with_error(&error),
        ),
    }
}

/// `POST mobile`: a code to the mobile typed.
pub(super) async fn mobile(
    State(state): State<AppState>,
    PostedStep {
        key,
        form,
        step,
        token,
        ..
    }: PostedStep,
) -> Response {
    match visit::send_code(&state.ctx(), &step, form.text("mobile")).await {
        Ok(_) => {
            state.jobs_wake.notify_one();
            here(&key).into_response()
        }
        Err(error) => {
            let mut p = PortalPage::of(&step, &token, "mobile").with_error(&error);
            p.mobile = form.text("mobile").chars().take(20).collect();
            page(status_of(&error), &p)
        }
    }
}

/// `POST voucher`: an access voucher's code instead of a mobile.
pub(super) async fn voucher(
    State(state): State<AppState>,
    PostedStep {
        key,
        headers,
        form,
        step,
        token,
    }: PostedStep,
) -> Response {
    let standing = ops::hotspot::voucher::voucher(&state.ctx(), &step, form.text("voucher")).await;
    if let Err(error) = &standing {
        let mut p = PortalPage::of(&step, &token, "mobile").with_error(error);
        p.voucher = form.text("voucher").chars().take(20).collect();
        return page(status_of(error), &p);
    }
    let (step, token) = match visit_of(&state, &key, &headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    onward(&state, &headers, &step, &token, standing, "mobile").await
}

/// `POST code`: the code typed.
pub(super) async fn code(
    State(state): State<AppState>,
    PostedStep {
        key,
        headers,
        form,
        step,
        token,
    }: PostedStep,
) -> Response {
    let ctx = state.ctx();
    if let Err(error) = visit::check_code(&ctx, &step, form.text("code")).await {
        return page(
            status_of(&error),
            &PortalPage::of(&step, &token, "code").with_error(&error),
        );
    }
    let (step, token) = match visit_of(&state, &key, &headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let standing = visit::next(&ctx, &step, None).await;
    onward(&state, &headers, &step, &token, standing, "mobile").await
}

/// The number posted as `name`, or 0 when it reads as none.
fn number(form: &FormData, name: &str) -> i64 {
    form.text(name).trim().parse().unwrap_or(0)
}

/// `POST choose`: one account among the mobile's.
pub(super) async fn choose(
    State(state): State<AppState>,
    PostedStep {
        headers,
        form,
        step,
        token,
        ..
    }: PostedStep,
) -> Response {
    let standing = visit::choose(&state.ctx(), &step, number(&form, "account")).await;
    onward(&state, &headers, &step, &token, standing, "choose").await
}

/// `POST connect`: sign in as the account.
pub(super) async fn connect(
    State(state): State<AppState>,
    PostedStep {
        headers,
        form,
        step,
        token,
        ..
    }: PostedStep,
) -> Response {
    hand_off(&state, &headers, &step, &token, number(&form, "account")).await
}

/// `POST signup`: a new account, on the trial when asked and allowed.
pub(super) async fn signup(
    State(state): State<AppState>,
    PostedStep {
        key,
        headers,
        form,
        step,
        token,
    }: PostedStep,
) -> Response {
    let trial = form.text("trial") == "1";
    let standing = visit::sign_up(&state.ctx(), &step, trial).await;
    if standing.is_ok() {
        // The welcome message is a job's to write.
        state.jobs_wake.notify_one();
    }
    let (step, token) = match standing {
        Ok(_) => match visit_of(&state, &key, &headers).await {
            Ok(found) => found,
            Err(response) => return response,
        },
        Err(_) => (step, token),
    };
    onward(&state, &headers, &step, &token, standing, "signup").await
}

/// `POST card`: a recharge card for one of the mobile's accounts.
pub(super) async fn card(
    State(state): State<AppState>,
    PostedStep {
        headers,
        form,
        step,
        token,
        ..
    }: PostedStep,
) -> Response {
    let account = number(&form, "account");
    let ctx = state.ctx();
    if let Err(error) = visit::redeem(&ctx, &step, account, form.text("pin")).await {
        return recharge_again(&ctx, &step, &token, account, &error).await;
    }
    let standing = visit::next(&ctx, &step, Some(account)).await;
    onward(&state, &headers, &step, &token, standing, "recharge").await
}

/// `POST pay`: an online payment for one of the mobile's accounts; the phone goes to the
/// provider's checkout, which sends it back to `paid/{reference}`.
pub(super) async fn pay(
    State(state): State<AppState>,
    PostedStep {
        key,
        headers,
        form,
        step,
        token,
    }: PostedStep,
) -> Response {
    let account = number(&form, "account");
    let ctx = state.ctx();
    let checkout = async {
        let (intent, credentials) = ops::hotspot::pay::pay(&ctx, &step, account).await?;
        let back = format!(
            "{}/hs/{key}/paid/{}",
            crate::billing::online::base_of(&state, &headers),
            intent.merchant_ref
        );
        let made =
            crate::billing::online::checkout(&state, &headers, intent, &credentials, &back).await;
        match made {
            Ok(intent) => intent.redirect_url.ok_or(OpError::Busy),
            Err(crate::billing::online::StartError::Op(error)) => Err(error),
            Err(crate::billing::online::StartError::Gateway) => {
                Err(OpError::field("account", "payment_unavailable"))
            }
        }
    };
    match checkout.await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(error) => recharge_again(&ctx, &step, &token, account, &error).await,
    }
}

/// The recharge screen again for `account`, saying why `error` refused its payment.
async fn recharge_again(
    ctx: &ops::Ctx<'_>,
    step: &Step,
    token: &str,
    account: i64,
    error: &OpError,
) -> Response {
    let mut p = PortalPage::of(step, token, "recharge").with_error(error);
    p.account = account;
    page(status_of(error), &p.with_payment(ctx, step).await)
}

/// `POST device`: removes a device, making room for this one.
pub(super) async fn device(
    State(state): State<AppState>,
    PostedStep {
        headers,
        form,
        step,
        token,
        ..
    }: PostedStep,
) -> Response {
    let account = number(&form, "account");
    let ctx = state.ctx();
    if let Err(error) = visit::remove_device(&ctx, &step, account, number(&form, "device")).await {
        return page(
            status_of(&error),
            &PortalPage::of(&step, &token, "devices").with_error(&error),
        );
    }
    // The removed device's sessions end through the job queue.
    state.jobs_wake.notify_one();
    let standing = visit::next(&ctx, &step, Some(account)).await;
    onward(&state, &headers, &step, &token, standing, "devices").await
}

/// `POST take-over`: ends the sessions of an account in use, so this phone may sign in.
pub(super) async fn take_over(
    State(state): State<AppState>,
    PostedStep {
        key,
        form,
        step,
        token,
        ..
    }: PostedStep,
) -> Response {
    let account = number(&form, "account");
    match visit::take_over(&state.ctx(), &step, account).await {
        Ok(_) => {
            state.jobs_wake.notify_one();
            here(&key).into_response()
        }
        Err(error) => {
            let mut p = PortalPage::of(&step, &token, "in_use").with_error(&error);
            p.account = account;
            page(status_of(&error), &p)
        }
    }
}
