package main

import (
	"github.com/mynakit/mynakit/simulator/persona"
	"github.com/mynakit/mynakit/trust"
)

// trustStore is what a command judges against: the embedded J-LIS
// production anchors, every --trust-dir, and the simulator's test hierarchy
// only for an in-process simulated card (--simulator, --sim-image). A card
// seen through PC/SC never passes on test anchors unless --trust-dir names
// them.
func (a *app) trustStore(simulated bool) (*trust.Store, error) {
	s := trust.Embedded()
	for _, d := range a.trustDirs {
		if err := s.AddDir(d); err != nil {
			return nil, err
		}
	}
	if simulated {
		if err := s.AddPEM(persona.TestRootsPEM(), "mynakit simulator test hierarchy, trusted for --simulator"); err != nil {
			return nil, err
		}
		if err := s.AddCVKeysJSON(persona.TestCVKeysJSON(), "mynakit simulator test hierarchy, trusted for --simulator"); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// simulatedFlags reports whether the global flags name an in-process card.
func (a *app) simulatedFlags() bool { return a.useSimulator || a.simImage != "" }
