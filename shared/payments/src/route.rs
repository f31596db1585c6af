//! Which payments operation a request asks for, one parser per component: method + path
//! (without its `/api/v1` or `/api` prefix and trailing `/`) → a route, an unknown path a 404,
//! a known one with another method a 405 (never `Invalid`). The order id, payment key or
//! reservation id is read by its handler after the caller is known, so an anonymous caller
//! gets its 401 first.

use crate::PaymentError;
use urr_api::route::{RouteError, allow, segments};

/// Component `pay`: every route is a `POST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayRoute {
    Prepare,
    Process,
    Confirm,
}

impl PayRoute {
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError<PaymentError>> {
        let route = match path {
            "/payments/prepare" => Self::Prepare,
            "/payments/process" => Self::Process,
            "/payments/confirm" => Self::Confirm,
            _ => return Err(RouteError::NotFound),
        };
        allow(method, "POST", Ok(route))
    }
}

/// Component `payments`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentsRoute {
    /// `POST /payments/webhook`
    Webhook,
    /// `GET /payments/user/me`
    MyPayments,
    /// `GET /payments/order/{orderId}`
    Order,
    /// `POST /payments/outbox/deliver`
    Deliver,
    /// `POST /payments/{paymentKey}/cancel`
    CancelPayment,
    /// `POST /reservations/{id}/cancel`
    CancelReservation,
}

impl PaymentsRoute {
    pub fn parse(method: &str, path: &str) -> Result<Self, RouteError<PaymentError>> {
        match (segments(path).as_slice(), method) {
            (["payments", "webhook"], "POST") => Ok(Self::Webhook),
            (["payments", "user", "me"], "GET") => Ok(Self::MyPayments),
            (["payments", "order", _], "GET") => Ok(Self::Order),
            (["payments", "outbox", "deliver"], "POST") => Ok(Self::Deliver),
            (["payments", _, "cancel"], "POST") => Ok(Self::CancelPayment),
            (["reservations", _, "cancel"], "POST") => Ok(Self::CancelReservation),
            (["payments", "user", "me"] | ["payments", "order", _], _) => {
                Err(RouteError::MethodNotAllowed("GET"))
            }
            (
                ["payments", "webhook"]
                | ["payments", "outbox", "deliver"]
                | ["payments", _, "cancel"]
                | ["reservations", _, "cancel"],
                _,
            ) => Err(RouteError::MethodNotAllowed("POST")),
            _ => Err(RouteError::NotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pay_takes_its_three_paths_by_post_only() {
        assert_eq!(
            PayRoute::parse("POST", "/payments/prepare"),
            Ok(PayRoute::Prepare)
        );
        assert_eq!(
            PayRoute::parse("POST", "/payments/process"),
            Ok(PayRoute::Process)
        );
        assert_eq!(
            PayRoute::parse("POST", "/payments/confirm"),
            Ok(PayRoute::Confirm)
        );
        assert_eq!(
            PayRoute::parse("GET", "/payments/confirm"),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert_eq!(
            PayRoute::parse("POST", "/payments/webhook"),
            Err(RouteError::NotFound)
        );
    }

    #[test]
    fn each_payments_path_names_its_operation() {
        let cases = [
            ("POST", "/payments/webhook", PaymentsRoute::Webhook),
            ("GET", "/payments/user/me", PaymentsRoute::MyPayments),
            ("GET", "/payments/order/o1", PaymentsRoute::Order),
            ("POST", "/payments/outbox/deliver", PaymentsRoute::Deliver),
            ("POST", "/payments/k1/cancel", PaymentsRoute::CancelPayment),
            (
                "POST",
                "/reservations/r1/cancel/",
                PaymentsRoute::CancelReservation,
            ),
            // A read's path wins for GET, a cancel's for POST.
            ("GET", "/payments/order/cancel", PaymentsRoute::Order),
            (
                "POST",
                "/payments/order/cancel",
                PaymentsRoute::CancelPayment,
            ),
        ];
        for (method, path, route) in cases {
            assert_eq!(
                PaymentsRoute::parse(method, path),
                Ok(route),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn other_methods_are_405_and_other_paths_404() {
        assert_eq!(
            PaymentsRoute::parse("POST", "/payments/user/me"),
            Err(RouteError::MethodNotAllowed("GET"))
        );
        assert_eq!(
            PaymentsRoute::parse("PUT", "/payments/order/cancel"),
            Err(RouteError::MethodNotAllowed("GET"))
        );
        assert_eq!(
            PaymentsRoute::parse("GET", "/reservations/r1/cancel"),
            Err(RouteError::MethodNotAllowed("POST"))
        );
        assert_eq!(
            PaymentsRoute::parse("GET", "/payments"),
            Err(RouteError::NotFound)
        );
    }
}
