package accesslog

// Operation is one operation as the log has it: its begin entry and, once
// it ended, its end entry (nil: the bridge stopped before it ended).
type Operation struct {
	Begin Entry
	End   *Entry
}

// Card is the keyed card hash the operation's entries carry.
func (o Operation) Card() string {
	if o.End != nil && o.End.Card != "" {
		return o.End.Card
	}
	return o.Begin.Card
}

// Operations pairs begin and end entries by their id, in the order the
// operations began; notes (and end entries without a begin, which damage
// may leave) are returned apart.
func Operations(entries []Entry) (ops []Operation, others []Entry) {
	index := map[string]int{}
	for _, e := range entries {
		switch {
		case e.Event == Begin && e.ID != "":
			index[e.ID] = len(ops)
			ops = append(ops, Operation{Begin: e})
		case e.Event == End && e.ID != "":
			if i, ok := index[e.ID]; ok && ops[i].End == nil {
				end := e
				ops[i].End = &end
				continue
			}
			others = append(others, e)
		default:
			others = append(others, e)
		}
	}
	return ops, others
}

// EntriesOfCard keeps the begin and end entries of the operations on one
// card (id as CardID makes it), in their order.
func EntriesOfCard(entries []Entry, id string) []Entry {
	ops, _ := Operations(entries)
	keep := map[string]bool{}
	for _, o := range ops {
		if o.Card() == id {
			keep[o.Begin.ID] = true
		}
	}
	var out []Entry
	for _, e := range entries {
		if (e.Event == Begin || e.Event == End) && keep[e.ID] {
			out = append(out, e)
		}
	}
	return out
}
