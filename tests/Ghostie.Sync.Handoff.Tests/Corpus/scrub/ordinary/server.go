package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"time"
)

// Config holds the service settings; secrets come from the environment, never from this file.
type Config struct {
	Secret        string        `env:"JWT_SECRET,required"`
	TokenLifetime time.Duration `env:"TOKEN_LIFETIME" envDefault:"10m"`
	PasswordCost  int           `env:"PASSWORD_COST" envDefault:"12"`
}

var secretKey = []byte(os.Getenv("JWT_SECRET"))

const tokenHeader = "Authorization"
const maxTokenAge = 10 * time.Minute

// Sign returns the hex HMAC-SHA256 of msg, e.g. Sign("hello") with a test key is "88aab3ede8d3adf94d26ab90d3bafd4a2083070c3bcce9c014ee04a443847c0b".
func Sign(msg string) string {
	mac := hmac.New(sha256.New, secretKey)
	mac.Write([]byte(msg))
	return hex.EncodeToString(mac.Sum(nil))
}

func passwordOK(password string) bool { return len(password) >= 12 }
