package main

import (
	"os"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	apache, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	mit := "Copyright (c) 2020 X\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software...\nThe above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software."
	bsd3 := "Redistribution and use in source and binary forms, with or without modification, are permitted provided that the following conditions are met:\n* Redistributions of source code must retain the above copyright notice.\n* Redistributions in binary form must reproduce the above copyright notice.\n* Neither the name of Google Inc. nor the names of its contributors may be used to endorse or promote products derived from this software."
	bsd2 := "Redistribution and use in source and binary forms, with or without modification, are permitted provided that:\n1. Redistributions of source code must retain the above copyright notice.\n2. Redistributions in binary form must reproduce the above copyright notice."
	for _, c := range []struct{ text, want string }{
		{string(apache), "Apache-2.0"},
		{mit, "MIT"},
		{bsd3, "BSD-3-Clause"},
		{bsd2, "BSD-2-Clause"},
		{mit + "\n\n" + string(apache), "Apache-2.0 AND MIT"},
		{"GNU GENERAL PUBLIC LICENSE Version 3, 29 June 2007", ""},
		{"All rights reserved.", ""},
		{"", ""},
	} {
		if got := Classify(c.text); got != c.want {
			t.Errorf("Classify(%.40q) = %q, want %q", c.text, got, c.want)
		}
	}
}

// The check make test relies on: every module linked into mynakit, on
// every release platform, has a licence file this tool recognises. A new
// dependency under an unknown licence fails here.
func TestEveryLinkedModuleHasAKnownLicence(t *testing.T) {
	mods, err := Collect("github.com/mynakit/mynakit/cmd/mynakit")
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) < 5 {
		t.Fatalf("only %d modules found: %+v", len(mods), mods)
	}
	for _, m := range Unknown(mods) {
		t.Errorf("%s %s: licence missing or unknown (files %v)", m.Path, m.Version, m.Files)
	}
	var b strings.Builder
	if err := Write(&b, mods); err != nil {
		t.Fatal(err)
	}
	for _, m := range mods {
		if !strings.Contains(b.String(), "==== "+m.Path+" ") {
			t.Errorf("%s missing from the bundle", m.Path)
		}
	}
}

func TestUnknownIsReported(t *testing.T) {
	bad := Unknown([]Module{{Path: "a", License: "MIT"}, {Path: "b"}})
	if len(bad) != 1 || bad[0].Path != "b" {
		t.Fatalf("got %+v", bad)
	}
}
