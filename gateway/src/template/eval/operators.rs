//! Operators and indexing on values: `[]`, `==` with Velocity's cross-type
//! comparison (bounded by the render's work budget), arithmetic.

use super::*;

pub(super) fn index<'r>(v: &Value<'r>, key: &Value<'r>) -> Value<'r> {
    match (v, key) {
        (Value::List(items, _), Value::Int(i)) => usize::try_from(*i)
            .ok()
            .and_then(|i| items.get(i))
            .cloned()
            .unwrap_or(Value::Null),
        (Value::Map(..), Value::Str(k)) => v.map_get(k),
        _ => Value::Null,
    }
}

fn num(v: &Value<'_>) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// `==`; adds the bytes of text it builds to `work`.
fn values_equal(a: &Value<'_>, b: &Value<'_>, work: &mut usize) -> Result<bool, TooLong> {
    Ok(match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Int(x), Value::Int(y)) => x == y,
        _ if num(a).is_some() && num(b).is_some() => num(a) == num(b),
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        // Different classes: Velocity 1.7 compares their toString().
        _ => {
            let (a, b) = (a.to_text()?, b.to_text()?);
            *work += a.len() + b.len();
            a == b
        }
    })
}

/// An operator; adds the bytes of text it builds to `work`.
pub(super) fn binary<'r>(
    op: BinOp,
    a: Value<'r>,
    b: Value<'r>,
    work: &mut usize,
) -> Result<Value<'r>, TooLong> {
    use BinOp::*;
    match op {
        Eq => return values_equal(&a, &b, work).map(Value::Bool),
        Ne => return values_equal(&a, &b, work).map(|eq| Value::Bool(!eq)),
        Lt | Le | Gt | Ge => {
            return Ok(match (num(&a), num(&b)) {
                (Some(x), Some(y)) => Value::Bool(match op {
                    Lt => x < y,
                    Le => x <= y,
                    Gt => x > y,
                    _ => x >= y,
                }),
                _ => Value::Bool(false),
            })
        }
        _ => {}
    }
    if op == Add
        && (matches!(a, Value::Str(_)) || matches!(b, Value::Str(_)))
        && !a.is_null()
        && !b.is_null()
    {
        // Written into one string, so the sum is bounded as it is built.
        let mut sum = a.to_text()?;
        b.append_text(&mut sum)?;
        *work += sum.len();
        return Ok(Value::str(sum));
    }
    if let (Value::Int(x), Value::Int(y)) = (&a, &b) {
        let (x, y) = (*x, *y);
        let r = match op {
            Add => x.checked_add(y),
            Sub => x.checked_sub(y),
            Mul => x.checked_mul(y),
            Div if y == 0 => return Ok(Value::Null),
            Div => x.checked_div(y),
            Mod if y == 0 => return Ok(Value::Null),
            Mod => x.checked_rem(y),
            _ => None,
        };
        return Ok(r.map_or_else(|| float_op(op, x as f64, y as f64), Value::Int));
    }
    Ok(match (num(&a), num(&b)) {
        (Some(x), Some(y)) => float_op(op, x, y),
        _ => Value::Null,
    })
}

fn float_op<'r>(op: BinOp, x: f64, y: f64) -> Value<'r> {
    match op {
        BinOp::Add => Value::Float(x + y),
        BinOp::Sub => Value::Float(x - y),
        BinOp::Mul => Value::Float(x * y),
        BinOp::Div if y == 0.0 => Value::Null,
        BinOp::Div => Value::Float(x / y),
        BinOp::Mod if y == 0.0 => Value::Null,
        BinOp::Mod => Value::Float(x % y),
        _ => Value::Null,
    }
}
