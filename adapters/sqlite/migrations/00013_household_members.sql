-- +goose Up
-- Same schema as adapters/postgres/migrations/00012_household_members.sql.
-- The members of each facts version (docs/MEMBERS.md): a member change is a
-- new facts version carrying the whole list, so history reads as it was.
-- 身份证号 are held like the head's: sealed (id_cipher under key id_key,
-- bound to the household id), an HMAC blind index and the masked form.
CREATE TABLE household_members (
    household_id TEXT NOT NULL,
    version      INTEGER NOT NULL,
    member_no    INTEGER NOT NULL CHECK (member_no >= 1),
    name         TEXT NOT NULL,
    relation     TEXT NOT NULL CHECK (relation IN ('head', 'spouse', 'child', 'parent', 'sibling', 'grandchild', 'other')),
    id_masked    TEXT NOT NULL,
    id_key       TEXT NOT NULL,
    id_cipher    BLOB NOT NULL,
    id_index     BLOB NOT NULL,
    labour       TEXT NOT NULL CHECK (labour IN ('labourer', 'not_labourer', 'student')),
    PRIMARY KEY (household_id, version, member_no),
    UNIQUE (household_id, version, id_index),
    FOREIGN KEY (household_id, version) REFERENCES household_facts (household_id, version)
) STRICT;
-- One head per version.
CREATE UNIQUE INDEX household_members_head_idx ON household_members (household_id, version) WHERE relation = 'head';

-- Existing households: the head is member one of every facts version. The
-- sealed number is copied as it is: it is bound to the household id, not
-- to the table, so it opens the same from here. The head's labour status
-- is not known; the head is counted a labourer when the facts count any.
INSERT INTO household_members (household_id, version, member_no, name, relation,
    id_masked, id_key, id_cipher, id_index, labour)
SELECT h.id, f.version, 1, h.head_name, 'head', h.head_id_masked, h.head_id_key,
    h.head_id_cipher, h.head_id_index,
    CASE WHEN f.labourers > 0 THEN 'labourer' ELSE 'not_labourer' END
FROM households h JOIN household_facts f ON f.household_id = h.id;

-- +goose Down
DROP TABLE household_members;
