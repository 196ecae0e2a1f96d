//! A 5.x client's `FilterExpression` as the store's message filter (tag expression or SQL92).

use rmq_proto::v2::{Code, FilterExpression, FilterType, Status};
use rmq_store::MessageFilter;

use super::status::status;
use crate::processor::subscription::filter_for_expression;

/// The filter for `f`; everything when the client sent none. `property_filter` is the
/// broker's `enablePropertyFilter`.
pub fn message_filter(
    f: Option<&FilterExpression>,
    property_filter: bool,
) -> Result<Box<dyn MessageFilter>, Status> {
    match f {
        None => filter_for_expression(None, "*", property_filter),
        Some(f) => match FilterType::try_from(f.r#type) {
            Ok(FilterType::Sql) => {
                filter_for_expression(Some("SQL92"), &f.expression, property_filter)
            }
            _ => filter_for_expression(None, &f.expression, property_filter),
        },
    }
    .map_err(|e| status(Code::IllegalFilterExpression, e.message()))
}
