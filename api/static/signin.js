// Signing in with a token, the same on the screen and the desk: the form, "Afmelden", and the
// token kept in this browser tab only (sessionStorage) until signing out.

const TOKEN_KEY = "mlob.token";
const $ = (id) => document.getElementById(id);

// The form's fields, the same on both pages (each page's form gives its own heading).
const FIELDS = `
  <label for="token">Token</label>
  <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" />
  <button type="submit" id="signin-button">Aanmelden</button>
  <p id="signin-error" role="alert"></p>
  <p class="muted">De token blijft alleen in dit tabblad bewaard (tot afmelden of sluiten).</p>`;

export const keepToken = (token) => sessionStorage.setItem(TOKEN_KEY, token);
export const forgetToken = () => sessionStorage.removeItem(TOKEN_KEY);

/**
 * Fill in the sign-in form's fields and wire the form and the sign-out button to the page's
 * own signIn(token) and signOut(message); then sign in with the token this tab kept, if any,
 * or show the form.
 */
export function startSignIn(signIn, signOut) {
  $("signin-form").insertAdjacentHTML("beforeend", FIELDS);
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) return;
    $("signin-error").textContent = "";
    try {
      await signIn(token);
    } catch (error) {
      signOut(
        error.status === 401
          ? "Deze token is onbekend, verlopen of ingetrokken."
          : "mlob is niet bereikbaar; probeer het opnieuw.",
      );
    }
  });
  $("signout").addEventListener("click", () => signOut());
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved).catch(() => signOut("Opnieuw aanmelden, alstublieft."));
  else signOut();
}
