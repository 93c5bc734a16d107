package auth

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"testing"

	"mellium.im/sasl"
)

// TestSCRAMFinalSameAsMellium: for the same client-first-message (so the
// same nonce) and server-first-message, the client-final-message computed
// from the keys is byte for byte the one mellium computes from the
// password, and mellium accepts the server signature computed with them;
// with and without channel binding, an authorization identity, both hash
// functions.
func TestSCRAMFinalSameAsMellium(t *testing.T) {
	tls13, _ := tlsPair(t, tls.VersionTLS13)
	tls12, _ := tlsPair(t, tls.VersionTLS12)
	tests := []struct {
		mech     sasl.Mechanism
		fn       func() hash.Hash
		tls      *tls.ConnectionState
		identity string
		cbType   string
	}{
		{mech: sasl.ScramSha1, fn: sha1.New},
		{mech: sasl.ScramSha256, fn: sha256.New},
		{mech: sasl.ScramSha1, fn: sha1.New, identity: "admin"},
		{mech: sasl.ScramSha256Plus, fn: sha256.New, tls: &tls13, cbType: ChannelBindingTLSExporter},
		{mech: sasl.ScramSha1Plus, fn: sha1.New, tls: &tls12, cbType: ChannelBindingTLSUnique},
		{mech: sasl.ScramSha256Plus, fn: sha256.New, tls: &tls13, cbType: ChannelBindingTLSExporter, identity: "admin"},
	}
	for _, tt := range tests {
		for _, iter := range []int{1, 4096} {
			name := fmt.Sprintf("%s/%s/authz=%q/i=%d", tt.mech.Name, tt.cbType, tt.identity, iter)
			t.Run(name, func(t *testing.T) {
				opts := []sasl.Option{
					sasl.Credentials(func() ([]byte, []byte, []byte) {
						return []byte("alice"), []byte(testPassword), []byte(tt.identity)
					}),
					sasl.RemoteMechanisms(tt.mech.Name),
				}
				if tt.tls != nil {
					opts = append(opts, sasl.TLSState(*tt.tls))
				}
				m := sasl.NewClient(tt.mech, opts...)
				_, first, err := m.Step(nil)
				if err != nil {
					t.Fatal(err)
				}
				salt := []byte("salt of alice")
				serverFirst := []byte("r=" + clientNonce(t, first) + "srv,s=" + base64.StdEncoding.EncodeToString(salt) + fmt.Sprintf(",i=%d", iter))
				_, want, err := m.Step(serverFirst)
				if err != nil {
					t.Fatal(err)
				}

				var cbData []byte
				if tt.cbType != "" {
					if cbData, err = channelBindingData(tt.tls, tt.cbType); err != nil {
						t.Fatal(err)
					}
				}
				k, err := deriveSCRAMKeys(tt.fn, testPassword, salt, iter)
				if err != nil {
					t.Fatal(err)
				}
				got, sig, err := scramFinal(tt.fn, k, first, serverFirst, cbData)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("client-final-message\n got %s\nwant %s", got, want)
				}
				if _, _, err := m.Step([]byte("v=" + base64.StdEncoding.EncodeToString(sig))); err != nil {
					t.Errorf("mellium refuses the server signature computed from the keys: %v", err)
				}
			})
		}
	}
}

// TestExchangeKeyCacheAgainstMelliumServer: with a key cache, logins to
// mellium's SCRAM server succeed; the second one with the same salt and
// iteration count finds its keys, one with another password does not,
// and a wrong server signature is still caught.
func TestExchangeKeyCacheAgainstMelliumServer(t *testing.T) {
	for _, tc := range []struct {
		mech sasl.Mechanism
		fn   func() hash.Hash
	}{{sasl.ScramSha1, sha1.New}, {sasl.ScramSha256, sha256.New}} {
		t.Run(tc.mech.Name, func(t *testing.T) {
			cache := NewSCRAMKeyCache()
			login := func(password string, tamper bool) error {
				srv := newSCRAMServer(tc.mech, tc.fn, testPassword)
				creds := Credentials{Username: "alice", Password: NewSecret(password)}
				ex, err := NewExchange([]string{tc.mech.Name}, creds, Policy{SCRAMKeys: cache})
				if err != nil {
					return err
				}
				first, err := ex.Start()
				if err != nil {
					return err
				}
				_, serverFirst, err := srv.neg.Step(first)
				if err != nil {
					return err
				}
				final, err := ex.Step(serverFirst)
				if err != nil {
					return err
				}
				_, serverFinal, err := srv.neg.Step(final)
				if err != nil {
					return fmt.Errorf("server: %w", err)
				}
				if tamper {
					serverFinal = bytes.Clone(serverFinal)
					serverFinal[3] ^= 1
				}
				return ex.Finish(serverFinal)
			}
			steps := []struct {
				password string
				tamper   bool
				wantErr  error
				server   bool // the server refuses
				hits     int
				misses   int
			}{
				{password: testPassword, misses: 1},
				{password: testPassword, hits: 1, misses: 1},
				{password: testPassword, tamper: true, wantErr: ErrServerSignature, hits: 2, misses: 1},
				{password: "wrong", server: true, hits: 2, misses: 2},
				{password: testPassword, hits: 3, misses: 2},
			}
			for i, s := range steps {
				err := login(s.password, s.tamper)
				switch {
				case s.server:
					if err == nil || !strings.HasPrefix(err.Error(), "server:") {
						t.Errorf("login %d: %v, want the server to refuse", i, err)
					}
				case !errors.Is(err, s.wantErr):
					t.Errorf("login %d: %v, want %v", i, err, s.wantErr)
				}
				if st := cache.Stats(); st.Hits != s.hits || st.Misses != s.misses {
					t.Errorf("after login %d: %+v, want %d hits %d misses", i, st, s.hits, s.misses)
				}
			}
		})
	}
}

// TestExchangeKeyCachePlus: a SCRAM-*-PLUS login with the key cache binds
// the channel as mellium does, from the cache too.
func TestExchangeKeyCachePlus(t *testing.T) {
	client, server := tlsPair(t, tls.VersionTLS13)
	cache := NewSCRAMKeyCache()
	salt := []byte("salt-of-alice")
	for i := range 2 {
		creds := Credentials{Username: "alice", Password: NewSecret(testPassword)}
		ex, err := NewExchange([]string{"SCRAM-SHA-256-PLUS"}, creds, Policy{TLS: &client, SCRAMKeys: cache})
		if err != nil {
			t.Fatal(err)
		}
		first, err := ex.Start()
		if err != nil {
			t.Fatal(err)
		}
		serverFirst := "r=" + clientNonce(t, first) + "srv,s=" + base64.StdEncoding.EncodeToString(salt) + ",i=4096"
		final, err := ex.Step([]byte(serverFirst))
		if err != nil {
			t.Fatal(err)
		}
		withoutProof, _, _ := strings.Cut(string(final), ",p=")
		c, _, _ := strings.Cut(strings.TrimPrefix(withoutProof, "c="), ",")
		gotCB, _ := base64.StdEncoding.DecodeString(c)
		ekm, _ := server.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
		if want := append([]byte("p=tls-exporter,,"), ekm...); !bytes.Equal(gotCB, want) {
			t.Fatalf("login %d: c= decodes to %x, want %x", i, gotCB, want)
		}
		bare := strings.TrimPrefix(string(first), "p=tls-exporter,,")
		serverFinal := rfc5802ServerFinal(t, sha256.New, testPassword, salt, bare, serverFirst, string(final))
		if err := ex.Finish([]byte(serverFinal)); err != nil {
			t.Fatalf("login %d: Finish: %v", i, err)
		}
	}
	if st := cache.Stats(); st.Hits != 1 || st.Misses != 1 {
		t.Errorf("stats %+v, want 1 hit 1 miss", st)
	}
}

// TestSCRAMKeyCacheRelease: the last holder's Release zeroes the keys and
// empties the cache; an earlier one does not. The password is not kept.
func TestSCRAMKeyCacheRelease(t *testing.T) {
	cache := NewSCRAMKeyCache()
	cache.Hold()
	cache.Hold()
	k, err := cache.keys("SCRAM-SHA-1", sha1.New, testPassword, []byte("salt"), 16)
	if err != nil {
		t.Fatal(err)
	}
	k.zero()
	var kept []*scramKeys
	cache.mu.Lock()
	for id, e := range cache.entries {
		kept = append(kept, e)
		if strings.Contains(fmt.Sprintf("%+v %+v", id, e), testPassword) {
			t.Error("the cache holds the password")
		}
	}
	cache.mu.Unlock()
	if len(kept) != 1 {
		t.Fatalf("%d entries, want 1", len(kept))
	}
	cache.Release()
	if st := cache.Stats(); st.Entries != 1 {
		t.Fatalf("after the first Release: %d entries, want 1", st.Entries)
	}
	cache.Release()
	if st := cache.Stats(); st.Entries != 0 {
		t.Fatalf("after the last Release: %d entries, want 0", st.Entries)
	}
	for _, b := range [][]byte{kept[0].clientKey, kept[0].storedKey, kept[0].serverKey} {
		if !bytes.Equal(b, make([]byte, len(b))) {
			t.Errorf("key not zeroed: %x", b)
		}
	}
	// A login after the clear derives the keys again.
	if _, err := cache.keys("SCRAM-SHA-1", sha1.New, testPassword, []byte("salt"), 16); err != nil {
		t.Fatal(err)
	}
	if st := cache.Stats(); st.Misses != 2 || st.Hits != 0 {
		t.Errorf("stats %+v, want 2 misses", st)
	}
}

// TestSCRAMKeyCacheBounded: entries past MaxSCRAMKeys push out the one used
// least recently; keys differ by hash, salt, count and password.
func TestSCRAMKeyCacheBounded(t *testing.T) {
	cache := NewSCRAMKeyCache()
	get := func(salt string) {
		t.Helper()
		if _, err := cache.keys("SCRAM-SHA-1", sha1.New, testPassword, []byte(salt), 1); err != nil {
			t.Fatal(err)
		}
	}
	for i := range MaxSCRAMKeys {
		get(fmt.Sprint("salt", i))
	}
	get("salt0") // used again: salt1 is now the oldest
	get("one more")
	if st := cache.Stats(); st.Entries != MaxSCRAMKeys || st.Hits != 1 {
		t.Fatalf("stats %+v, want %d entries and 1 hit", st, MaxSCRAMKeys)
	}
	before := cache.Stats()
	get("salt0")
	get("salt1")
	if st := cache.Stats(); st.Hits != before.Hits+1 || st.Misses != before.Misses+1 {
		t.Errorf("salt0 should be kept and salt1 evicted: %+v after %+v", st, before)
	}

	distinct := []struct {
		mech, password, salt string
		iter                 int
	}{
		{"SCRAM-SHA-256", testPassword, "s", 1},
		{"SCRAM-SHA-1", testPassword, "s", 1},
		{"SCRAM-SHA-1", testPassword, "s", 2},
		{"SCRAM-SHA-1", "other", "s", 1},
		{"SCRAM-SHA-1", testPassword, "t", 1},
	}
	c2 := NewSCRAMKeyCache()
	for _, d := range distinct {
		if _, err := c2.keys(d.mech, scramHash(d.mech), d.password, []byte(d.salt), d.iter); err != nil {
			t.Fatal(err)
		}
	}
	if st := c2.Stats(); st.Misses != len(distinct) || st.Entries != len(distinct) {
		t.Errorf("stats %+v, want %d distinct entries", st, len(distinct))
	}
	// SCRAM-SHA-1-PLUS shares the keys of SCRAM-SHA-1.
	if _, err := c2.keys("SCRAM-SHA-1-PLUS", sha1.New, testPassword, []byte("s"), 1); err != nil {
		t.Fatal(err)
	}
	if st := c2.Stats(); st.Hits != 1 {
		t.Errorf("SCRAM-SHA-1-PLUS did not find the SCRAM-SHA-1 keys: %+v", st)
	}
}

// TestSCRAMKeyCacheConcurrent: logins and Clears at once (for -race).
func TestSCRAMKeyCacheConcurrent(t *testing.T) {
	cache := NewSCRAMKeyCache()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				if j%7 == i%7 {
					cache.Clear()
				}
				k, err := cache.keys("SCRAM-SHA-256", sha256.New, testPassword, []byte{byte(j % 3)}, 2)
				if err != nil {
					t.Error(err)
					return
				}
				k.zero()
			}
		})
	}
	wg.Wait()
}
