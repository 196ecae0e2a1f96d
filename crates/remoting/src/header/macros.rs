//! The `command_header!` macro: a header struct from its field list.

/// Declares a header struct and its [`CommandHeader`](crate::CommandHeader) impl.
///
/// ```
/// rmq_remoting::command_header! {
///     /// Example.
///     pub struct ExampleHeader: "ExampleHeader" {
///         /// A required field: `extFields["topic"]` must be present.
///         req topic: String = "topic",
///         /// An optional field, `Option<i32>` in the struct.
///         opt queue_id: i32 = "queueId",
///     }
/// }
/// ```
///
/// Add `rpc` after the Java name (`: "Name" rpc {`) to include the common [`RpcFields`]
/// (`ns`, `nsd`, `bname`, `oway`, `lo`) as a `rpc` field.
///
/// [`RpcFields`]: crate::header::RpcFields
#[macro_export]
macro_rules! command_header {
    (@ty req $ty:ty) => { $ty };
    (@ty opt $ty:ty) => { Option<$ty> };
    (@write req $value:expr, $key:literal, $ext:ident) => {
        $ext.insert($key, $crate::header::HeaderValue::to_header_string(&$value));
    };
    (@write opt $value:expr, $key:literal, $ext:ident) => {
        if let Some(v) = &$value {
            $ext.insert($key, $crate::header::HeaderValue::to_header_string(v));
        }
    };
    (@read req $ty:ty, $key:literal, $ext:ident, $java:literal) => {
        match $ext.get($key) {
            None => Err($crate::header::HeaderError::Missing { header: $java, field: $key }),
            Some(s) => <$ty as $crate::header::HeaderValue>::from_header_str(s).ok_or_else(|| {
                $crate::header::HeaderError::Invalid {
                    header: $java,
                    field: $key,
                    value: s.to_owned(),
                }
            }),
        }
    };
    (@read opt $ty:ty, $key:literal, $ext:ident, $java:literal) => {
        match $ext.get($key) {
            None => Ok::<_, $crate::header::HeaderError>(None),
            // Java logs an unparsable optional field and leaves it null; so do we.
            Some(s) => Ok(<$ty as $crate::header::HeaderValue>::from_header_str(s)),
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident : $java:literal $($rpc:ident)? {
            $( $(#[$fmeta:meta])* $kind:ident $field:ident : $ty:ty = $key:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        $vis struct $name {
            $( $(#[$fmeta])* pub $field: $crate::command_header!(@ty $kind $ty), )*
            $(
                /// Common optional RPC fields (`ns`, `nsd`, `bname`, `oway`, `lo`).
                pub $rpc: $crate::header::RpcFields,
            )?
        }

        impl $crate::header::CommandHeader for $name {
            const NAME: &'static str = $java;

            fn write(&self, ext: &mut $crate::protocol::ExtFields) {
                $( $crate::command_header!(@write $kind self.$field, $key, ext); )*
                $( $crate::header::CommandHeader::write(&self.$rpc, ext); )?
            }

            fn read(ext: &$crate::protocol::ExtFields) -> Result<Self, $crate::header::HeaderError> {
                Ok($name {
                    $( $field: $crate::command_header!(@read $kind $ty, $key, ext, $java)?, )*
                    $( $rpc: $crate::header::RpcFields::read(ext)?, )?
                })
            }
        }
    };
}
