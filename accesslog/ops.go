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
