package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// mailBucket holds the reports whose people may not all have been mailed: report path -> JSON
// Unmailed.
var mailBucket = []byte("mail")

// Unmailed is a report of a run with --mail whose mail run has not ended with everyone mailed
// (or not started): the people provisioned in it are remembered by the store, so no later
// report lists them again, and only a mail run with --resume on this report mails them.
type Unmailed struct {
	Report     string    `json:"-"`                     // the report, an absolute path (the key)
	MailReport string    `json:"mail_report,omitempty"` // its mail report, "" for the default beside it
	Since      time.Time `json:"since"`                 // when it was first remembered
}

// RememberUnmailed remembers u until ForgetUnmailed; a report already remembered keeps its
// entry. added says whether u was new. It commits at once.
func (s *Store) RememberUnmailed(u Unmailed) (added bool, err error) {
	if !s.writable() {
		return false, errors.New("state: remember on a read-only store")
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(mailBucket)
		if err != nil {
			return err
		}
		if b.Get([]byte(u.Report)) != nil {
			return nil
		}
		v, err := json.Marshal(u)
		if err != nil {
			return err
		}
		added = true
		return b.Put([]byte(u.Report), v)
	})
	if err != nil {
		return false, fmt.Errorf("saving the state: %w", err)
	}
	return added, nil
}

// ForgetUnmailed forgets the report at path (its key): everyone in it is mailed, or it is gone.
// It commits at once.
func (s *Store) ForgetUnmailed(report string) error {
	if !s.writable() {
		return errors.New("state: forget on a read-only store")
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(mailBucket); b != nil {
			return b.Delete([]byte(report))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("saving the state: %w", err)
	}
	return nil
}

// Unmailed returns the reports remembered by RememberUnmailed, oldest first. An entry that
// cannot be decoded is returned with its report alone, so that it is mailed (and forgotten)
// all the same.
func (s *Store) Unmailed() ([]Unmailed, error) {
	if s.db == nil {
		return nil, nil
	}
	var list []Unmailed
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(mailBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var u Unmailed
			if json.Unmarshal(v, &u) != nil {
				u = Unmailed{}
			}
			u.Report = string(k)
			list = append(list, u)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading the state: %w", err)
	}
	slices.SortStableFunc(list, func(a, b Unmailed) int { return a.Since.Compare(b.Since) })
	return list, nil
}
