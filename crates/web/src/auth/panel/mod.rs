//! The panel's sign-in pages (password, then the TOTP code when the account has one), sign
//! out, the first-account setup link, the dashboard, and the signed-in user's account page
//! (password, TOTP enrolment).

mod account;
mod dashboard;
mod setup;
mod signin;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;
use account::{account, change_password, confirm_totp, disable_totp, start_totp};
pub use dashboard::dashboard;
use setup::{setup, setup_page};
use signin::{login, login_page, logout, totp, totp_page};

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/login/totp", get(totp_page).post(totp))
        .route("/logout", post(logout))
        .route("/setup/{token}", get(setup_page).post(setup))
        .route("/panel/account", get(account))
        .route("/panel/account/password", post(change_password))
        .route("/panel/account/totp/start", post(start_totp))
        .route("/panel/account/totp/confirm", post(confirm_totp))
        .route("/panel/account/totp/disable", post(disable_totp))
}
