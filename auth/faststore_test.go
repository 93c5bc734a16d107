package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// storeContract runs the FASTStore contract on a new store from open.
func storeContract(t *testing.T, open func(t *testing.T) FASTStore) {
	const alice, bob = "alice@example.com", "bob@example.com"
	tok := func(ua, secret string) FASTToken {
		return FASTToken{Mechanism: MechHTNone, Secret: NewSecret(secret), Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), UserAgent: ua}
	}
	mustTake := func(t *testing.T, s FASTStore, account string) (FASTToken, bool) {
		t.Helper()
		got, ok, err := s.Take(account)
		if err != nil {
			t.Fatalf("Take: %v", err)
		}
		return got, ok
	}
	check := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("take, save, release, delete", func(t *testing.T) {
		s := open(t)
		if _, ok := mustTake(t, s, alice); ok {
			t.Fatal("an empty store gave a token")
		}
		check(t, s.Save(alice, tok("ua1", "t1")))
		if _, ok := mustTake(t, s, alice); ok {
			t.Fatal("a token held by its saver was taken")
		}
		check(t, s.Release(alice, "ua1"))
		got, ok := mustTake(t, s, alice)
		if !ok || got.UserAgent != "ua1" || got.Secret.Reveal() != "t1" || got.Mechanism != MechHTNone || !got.Expiry.Equal(tok("", "").Expiry) {
			t.Fatalf("Take = %+v, %t", got, ok)
		}
		if _, ok := mustTake(t, s, alice); ok {
			t.Fatal("a taken token was taken again")
		}
		if _, ok := mustTake(t, s, bob); ok {
			t.Fatal("another account's token was taken")
		}
		// A rotation replaces the token of the same user agent.
		check(t, s.Save(alice, tok("ua1", "t1b")))
		check(t, s.Release(alice, "ua1"))
		if got, _ := mustTake(t, s, alice); got.Secret.Reveal() != "t1b" {
			t.Fatalf("after rotation Take = %q, want t1b", got.Secret.Reveal())
		}
		check(t, s.Delete(alice, "ua1"))
		check(t, s.Release(alice, "ua1")) // of a deleted token: nothing
		if _, ok := mustTake(t, s, alice); ok {
			t.Fatal("a deleted token was taken")
		}
		check(t, s.Delete(alice, "nobody"))
	})

	t.Run("one holder per token", func(t *testing.T) {
		s := open(t)
		for i := range 3 {
			check(t, s.Save(alice, tok(fmt.Sprint("ua", i), fmt.Sprint("t", i))))
			check(t, s.Release(alice, fmt.Sprint("ua", i)))
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				if got, ok, _ := s.Take(alice); ok {
					mu.Lock()
					seen[got.UserAgent]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != 3 {
			t.Errorf("taken %v, want each of 3 tokens once", seen)
		}
		for ua, n := range seen {
			if n != 1 {
				t.Errorf("%s taken %d times", ua, n)
			}
		}
	})

	t.Run("bounded", func(t *testing.T) {
		s := open(t)
		for i := range MaxFASTTokens + 4 {
			tk := tok(fmt.Sprint("ua", i), fmt.Sprint("t", i))
			tk.Expiry = tk.Expiry.Add(time.Duration(i) * time.Hour)
			check(t, s.Save(alice, tk))
			check(t, s.Release(alice, tk.UserAgent))
		}
		n := 0
		for {
			got, ok := mustTake(t, s, alice)
			if !ok {
				break
			}
			n++
			if got.UserAgent == "ua0" {
				t.Error("the token that expires first was kept")
			}
		}
		if n != MaxFASTTokens {
			t.Errorf("%d tokens kept, want %d", n, MaxFASTTokens)
		}
	})
}

func TestMemoryFASTStore(t *testing.T) {
	storeContract(t, func(*testing.T) FASTStore { return NewMemoryFASTStore() })
}

func TestFileFASTStore(t *testing.T) {
	storeContract(t, func(t *testing.T) FASTStore {
		s, err := OpenFileFASTStore(filepath.Join(t.TempDir(), "tokens.json"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestFileFASTStorePersists: the file has mode 0600 and holds what a new
// store reads back, every token free; the directory holds nothing else.
func TestFileFASTStorePersists(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	s, err := OpenFileFASTStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the file exists before any token: %v", err)
	}
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.Save("alice@example.com", FASTToken{Mechanism: MechHTExporter, Secret: NewSecret(testToken), Expiry: exp, UserAgent: "ua"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("bob@example.com", FASTToken{Mechanism: MechHTNone, Secret: NewSecret("bob's"), UserAgent: "ub"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("bob@example.com", "ub"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want 1 (no temporary file left)", len(entries))
	}

	s2, err := OpenFileFASTStore(path)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := s2.Take("alice@example.com")
	if err != nil || !ok {
		t.Fatalf("Take after reopening = %v, %t, %v", got, ok, err)
	}
	if got.Secret.Reveal() != testToken || got.Mechanism != MechHTExporter || !got.Expiry.Equal(exp) || got.UserAgent != "ua" {
		t.Errorf("read back %+v (secret equal: %t)", got, got.Secret.Reveal() == testToken)
	}
	if _, ok, _ := s2.Take("bob@example.com"); ok {
		t.Error("a deleted token came back")
	}
}

func TestOpenFileFASTStoreRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	valid := `{"version":1,"accounts":{"a@b":[{"mechanism":"HT-SHA-256-NONE","token":"` + testToken + `","user_agent":"u"}]}}`
	tests := []struct {
		name string
		path string
	}{
		{"readable by others", write("open.json", valid, 0o644)},
		{"writable by the group", write("group.json", valid, 0o620)},
		{"not JSON", write("bad.json", "{", 0o600)},
		{"other version", write("v2.json", `{"version":2}`, 0o600)},
		{"a directory", dir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenFileFASTStore(tt.path)
			if !errors.Is(err, ErrFASTStoreFile) {
				t.Fatalf("err = %v, want ErrFASTStoreFile", err)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}
