//! `#set` and `#foreach`: assignments, the request and response override maps,
//! and loops, each within the render's budgets.

use super::*;

impl<'r> Eval<'r> {
    pub(super) fn assign(&mut self, target: &'r SetTarget, v: Value<'r>) -> EResult<()> {
        // Velocity 1.7: assigning null leaves the target as it was.
        if v.is_null() {
            return Ok(());
        }
        match target {
            SetTarget::Var(slot) => self.vars[*slot] = v,
            SetTarget::Status => self.overrides.response_status = Some(self.text(&v, self.at)?),
            SetTarget::Override(slot, name) => {
                let text = self.text(&v, self.at)?;
                self.set_override(*slot, name.clone(), text, self.at)?;
            }
            SetTarget::OverrideKey(slot, name) => {
                let name = self.expr(name)?;
                // A null name sets nothing, as a null value does.
                if name.is_null() {
                    return Ok(());
                }
                let (name, text) = (self.text(&name, self.at)?, self.text(&v, self.at)?);
                self.set_override(*slot, name, text, self.at)?;
            }
        }
        Ok(())
    }

    /// Sets `name` in an override map; the value it had, if any.
    pub(super) fn set_override(
        &mut self,
        slot: OverrideSlot,
        name: String,
        text: String,
        at: Pos,
    ) -> EResult<Option<String>> {
        let len = self.overrides.slot(slot).len();
        self.charge(len, at)?;
        let list = self.overrides.slot_mut(slot);
        if let Some(entry) = list.iter_mut().find(|(k, _)| *k == name) {
            return Ok(Some(std::mem::replace(&mut entry.1, text)));
        }
        if len >= MAX_OVERRIDES {
            return Err(self.fail(
                ErrorKind::Render,
                at,
                format!("more than {MAX_OVERRIDES} names in one $context override map"),
            ));
        }
        list.push((name, text));
        Ok(None)
    }

    /// `$context.requestOverride.querystring.put(name, value)`: Java's
    /// `Map.put`, the value the name had (null if none). A null name or
    /// value sets nothing, as `#set` of a null does.
    pub(super) fn put(
        &mut self,
        slot: OverrideSlot,
        args: &'r [Expr],
        at: Pos,
    ) -> EResult<Value<'r>> {
        let (Some(name), Some(value)) = (args.first(), args.get(1)) else {
            return Ok(Value::Null);
        };
        let (name, value) = (self.expr(name)?, self.expr(value)?);
        if name.is_null() || value.is_null() {
            return Ok(Value::Null);
        }
        let (name, text) = (self.text(&name, at)?, self.text(&value, at)?);
        Ok(self
            .set_override(slot, name, text, at)?
            .map_or(Value::Null, Value::str))
    }

    /// An override map as a map value (a copy: templates change it only
    /// through `#set` and `put()`).
    pub(super) fn override_map(&self, slot: OverrideSlot, at: Pos) -> EResult<Value<'r>> {
        let list = self.overrides.slot(slot);
        let bytes: usize = list.iter().map(|(k, v)| k.len() + v.len() + 1).sum();
        self.charge(bytes, at)?;
        let entries = list
            .iter()
            .map(|(k, v)| (Cow::Owned(k.clone()), Value::str(v.clone())))
            .collect();
        Ok(Value::Map(MapData::new(entries), Origin::Vtl))
    }

    pub(super) fn foreach(&mut self, f: &'r Foreach) -> EResult<Flow> {
        // A map's values are walked in place, not copied: the loop may
        // stop at its first item, or fail at its 1,001st.
        let iterable = self.expr(&f.iterable)?;
        let (len, items): (usize, Box<dyn Iterator<Item = &Value<'r>>>) = match &iterable {
            Value::List(items, _) => (items.len(), Box::new(items.iter())),
            Value::Map(entries, _) => (entries.len(), Box::new(entries.iter().map(|(_, v)| v))),
            // Velocity skips what it cannot iterate.
            _ => return Ok(Flow::Normal),
        };
        let saved = std::mem::replace(&mut self.vars[f.var], Value::Null);
        let mut flow = Flow::Normal;
        for (i, item) in items.enumerate() {
            if i == MAX_ITERATIONS {
                return Err(self.fail(
                    ErrorKind::Render,
                    f.pos,
                    format!("#foreach over {len} items: API Gateway allows at most {MAX_ITERATIONS} iterations"),
                ));
            }
            self.iterations += 1;
            if self.iterations > MAX_TOTAL_ITERATIONS {
                return Err(self.fail(
                    ErrorKind::Render,
                    f.pos,
                    format!("more than {MAX_TOTAL_ITERATIONS} #foreach iterations in one render"),
                ));
            }
            self.vars[f.var] = item.clone();
            self.loops.push((i, len));
            let r = self.nodes(&f.body);
            self.loops.pop();
            match r? {
                Flow::Normal => {}
                Flow::Break => break,
                Flow::Stop => {
                    flow = Flow::Stop;
                    break;
                }
            }
        }
        self.vars[f.var] = saved;
        Ok(flow)
    }
}
