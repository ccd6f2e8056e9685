// Signing in with a token, the same on the screen and the desk: the form, "Afmelden", and the
// token kept in this browser tab only (sessionStorage) until signing out.

const TOKEN_KEY = "mlob.token";
const $ = (id) => document.getElementById(id);

export const keepToken = (token) => sessionStorage.setItem(TOKEN_KEY, token);
export const forgetToken = () => sessionStorage.removeItem(TOKEN_KEY);

/**
 * Wire the sign-in form and the sign-out button to the page's own signIn(token) and
 * signOut(message); then sign in with the token this tab kept, if any, or show the form.
 */
export function startSignIn(signIn, signOut) {
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
