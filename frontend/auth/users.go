package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"github.com/danang-ioc/ioc/layers/access"
)

// Password rules: bcrypt reads at most 72 bytes, and a longer password
// would be silently cut, so it is refused instead.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 72
)

// User is a person who logs in. Hash is the bcrypt hash of the password.
type User struct {
	Name        string           `json:"name"`
	DisplayName string           `json:"displayName,omitempty"`
	Roles       []access.Role    `json:"roles"`
	Scope       access.ScopeSpec `json:"scope"`
	Created     time.Time        `json:"created"`
	Changed     time.Time        `json:"changed"`
	Disabled    bool             `json:"disabled,omitempty"`
	Hash        []byte           `json:"hash,omitempty"`
}

// NewUser is what creating a user takes.
type NewUser struct {
	Name        string
	DisplayName string
	Password    string
	Roles       []access.Role
	Scope       access.ScopeSpec
}

// ErrUserExists and ErrNoUser are the store's answers about user names.
var (
	ErrUserExists = errors.New("user already exists")
	ErrNoUser     = errors.New("no such user")
)

// CheckPassword says what is wrong with a new password, without quoting it.
func CheckPassword(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return errors.New("password is not valid UTF-8")
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return fmt.Errorf("password too short: want at least %d characters", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("password too long: at most %d bytes (bcrypt ignores the rest)", MaxPasswordLen)
	}
	return nil
}

// AddUser creates a user; the name must be new.
func (s *Store) AddUser(nu NewUser) (User, error) {
	if !validName(nu.Name) {
		return User{}, fmt.Errorf("user name %q: want 1-64 of a-z 0-9 . _ -, starting with a letter or digit", nu.Name)
	}
	if len(nu.Roles) == 0 {
		return User{}, fmt.Errorf("user %s: no role given", nu.Name)
	}
	if err := CheckPassword(nu.Password); err != nil {
		return User{}, fmt.Errorf("user %s: %w", nu.Name, err)
	}
	if _, err := s.resolve(nu.Scope); err != nil {
		return User{}, fmt.Errorf("user %s: %w", nu.Name, err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(nu.Password), s.opts.BcryptCost)
	if err != nil {
		return User{}, fmt.Errorf("user %s: hashing the password: %w", nu.Name, err)
	}
	now := s.now()
	u := User{Name: nu.Name, DisplayName: nu.DisplayName, Roles: nu.Roles, Scope: nu.Scope, Created: now, Changed: now, Hash: hash}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		if b.Get([]byte(u.Name)) != nil {
			return fmt.Errorf("user %s: %w", u.Name, ErrUserExists)
		}
		return putJSON(b, u.Name, u)
	})
	return u, err
}

// SetPassword replaces a user's password.
func (s *Store) SetPassword(name, pw string) error {
	if err := CheckPassword(pw); err != nil {
		return fmt.Errorf("user %s: %w", name, err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), s.opts.BcryptCost)
	if err != nil {
		return fmt.Errorf("user %s: hashing the password: %w", name, err)
	}
	return s.updateUser(name, func(u *User) { u.Hash = hash })
}

// SetDisabled disables or re-enables a user's logins.
func (s *Store) SetDisabled(name string, disabled bool) error {
	return s.updateUser(name, func(u *User) { u.Disabled = disabled })
}

func (s *Store) updateUser(name string, change func(*User)) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		var u User
		if err := getJSON(b, name, &u, ErrNoUser); err != nil {
			return err
		}
		change(&u)
		u.Changed = s.now()
		return putJSON(b, name, u)
	})
}

// User returns the user with name.
func (s *Store) User(name string) (User, error) {
	var u User
	err := s.db.View(func(tx *bbolt.Tx) error { return getJSON(tx.Bucket(bucketUsers), name, &u, ErrNoUser) })
	return u, err
}

// Users lists every user, by name, without password hashes.
func (s *Store) Users() ([]User, error) {
	var out []User
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(_, v []byte) error {
			var u User
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("user record: %w", err)
			}
			u.Hash = nil
			out = append(out, u)
			return nil
		})
	})
	return out, err
}

// verify checks a password and returns the user; a missing, disabled or
// mismatching user is the same ErrBadCredentials.
func (s *Store) verify(name, pw string) (User, error) {
	u, err := s.User(name)
	if err != nil {
		// As long as a wrong password, so the answer does not tell which
		// names exist.
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(pw))
		if errors.Is(err, ErrNoUser) {
			return User{}, ErrBadCredentials
		}
		return User{}, err
	}
	// bcrypt compares in constant time.
	if bcrypt.CompareHashAndPassword(u.Hash, []byte(pw)) != nil || u.Disabled {
		return User{}, ErrBadCredentials
	}
	return u, nil
}

// ErrBadCredentials is the one answer to a failed login.
var ErrBadCredentials = errors.New("user name or password is wrong")

// userPrincipal builds the principal of a logged-in user.
func (s *Store) userPrincipal(u User) (*access.Principal, error) {
	sc, err := s.resolve(u.Scope)
	if err != nil {
		return nil, fmt.Errorf("user %s: stored scope: %w", u.Name, err)
	}
	name := u.DisplayName
	if name == "" {
		name = u.Name
	}
	return access.NewPrincipal(access.KindUser, u.Name, name, u.Roles, sc), nil
}

// validName is the rule for user and token names.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')) {
			return false
		}
	}
	return true
}

func putJSON(b *bbolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}

func getJSON(b *bbolt.Bucket, key string, v any, notFound error) error {
	data := b.Get([]byte(key))
	if data == nil {
		return fmt.Errorf("%q: %w", key, notFound)
	}
	return json.Unmarshal(data, v)
}
