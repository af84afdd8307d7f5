"""The words of the demo's fictional product, Acme Support: questions, answers, documents.

Written for the demo (no third-party text). Each answer template belongs to a quality
tier; the story picks the tier and the simulated judge recognises it again from the
text alone, so no hidden attribute has to travel with the span.
"""

from __future__ import annotations

LANGUAGES = ("en", "de", "fr", "es")
TOPICS = ("order_status", "returns", "password", "invoice", "acme_card")
TIERS = ("good", "ok", "bad")

# Slots: {order} an order number, {item} a product, {days} a number of days.
QUESTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("order_status", "en"): (
        "Hi, where is my order {order}? I ordered the {item} last week and it has not arrived.",
        "Can you tell me when order {order} with the {item} will be delivered to me?",
    ),
    ("order_status", "de"): (
        "Hallo, wo ist meine Bestellung {order}? Ich habe den {item} letzte Woche bestellt "
        "und er ist noch nicht angekommen.",
        "Können Sie mir sagen, wann die Bestellung {order} mit dem {item} bei mir ankommt?",
    ),
    ("order_status", "fr"): (
        "Bonjour, où est ma commande {order} ? J'ai commandé le {item} la semaine dernière "
        "et il n'est pas encore arrivé.",
        "Pouvez-vous me dire quand la commande {order} avec le {item} sera livrée chez moi ?",
    ),
    ("order_status", "es"): (
        "Hola, ¿dónde está mi pedido {order}? Pedí el {item} la semana pasada y todavía no "
        "ha llegado.",
        "¿Me pueden decir cuándo me van a entregar el pedido {order} con el {item}?",
    ),
    ("returns", "en"): (
        "I want to return the {item} from order {order}, it does not work. How do I do that?",
        "How can I send back the {item} I bought? The order number is {order}.",
    ),
    ("returns", "de"): (
        "Ich möchte den {item} aus der Bestellung {order} zurückschicken, er funktioniert "
        "nicht. Wie mache ich das?",
        "Wie kann ich den {item} zurückgeben, den ich gekauft habe? Die Bestellnummer ist {order}.",
    ),
    ("returns", "fr"): (
        "Je veux retourner le {item} de la commande {order}, il ne fonctionne pas. Comment "
        "est-ce que je fais ?",
        "Comment est-ce que je peux renvoyer le {item} que j'ai acheté ? Le numéro de "
        "commande est {order}.",
    ),
    ("returns", "es"): (
        "Quiero devolver el {item} del pedido {order}, no funciona. ¿Cómo lo hago?",
        "¿Cómo puedo devolver el {item} que compré? El número de pedido es {order}.",
    ),
    ("password", "en"): (
        "I forgot my password and the reset email never arrives. What can I do?",
        "I cannot log in to my Acme account any more, the password is not accepted.",
    ),
    ("password", "de"): (
        "Ich habe mein Passwort vergessen und die E-Mail zum Zurücksetzen kommt nie an. Was "
        "kann ich tun?",
        "Ich kann mich nicht mehr in mein Acme-Konto einloggen, das Passwort wird nicht "
        "akzeptiert.",
    ),
    ("password", "fr"): (
        "J'ai oublié mon mot de passe et l'e-mail de réinitialisation n'arrive jamais. Que "
        "puis-je faire ?",
        "Je ne peux plus me connecter à mon compte Acme, le mot de passe n'est pas accepté.",
    ),
    ("password", "es"): (
        "Olvidé mi contraseña y el correo para restablecerla nunca llega. ¿Qué puedo hacer?",
        "Ya no puedo entrar en mi cuenta de Acme, no me acepta la contraseña.",
    ),
    ("invoice", "en"): (
        "I need an invoice for order {order} with my company address on it. Where do I get it?",
        "The invoice for the {item} (order {order}) shows the wrong amount. Can you fix it?",
    ),
    ("invoice", "de"): (
        "Ich brauche eine Rechnung für die Bestellung {order} mit meiner Firmenadresse. Wo "
        "bekomme ich die?",
        "Die Rechnung für den {item} (Bestellung {order}) zeigt den falschen Betrag. Können "
        "Sie das korrigieren?",
    ),
    ("invoice", "fr"): (
        "J'ai besoin d'une facture pour la commande {order} avec l'adresse de mon entreprise. "
        "Où est-ce que je la trouve ?",
        "La facture du {item} (commande {order}) indique le mauvais montant. Pouvez-vous la "
        "corriger ?",
    ),
    ("invoice", "es"): (
        "Necesito una factura del pedido {order} con la dirección de mi empresa. ¿Dónde la "
        "consigo?",
        "La factura del {item} (pedido {order}) tiene un importe equivocado. ¿Lo pueden corregir?",
    ),
    ("acme_card", "en"): (
        "How do I activate my new Acme Card? The app says the card is not ready yet.",
        "What is the interest rate of the Acme Card and is there a yearly fee?",
    ),
    ("acme_card", "de"): (
        "Wie aktiviere ich meine neue Acme Card? Die App sagt, dass die Karte noch nicht "
        "bereit ist.",
        "Wie hoch ist der Zinssatz der Acme Card und gibt es eine Jahresgebühr?",
    ),
    ("acme_card", "fr"): (
        "Comment est-ce que j'active ma nouvelle Acme Card ? L'application dit que la carte "
        "n'est pas encore prête.",
        "Quel est le taux d'intérêt de la Acme Card et est-ce qu'il y a des frais annuels ?",
    ),
    ("acme_card", "es"): (
        "¿Cómo activo mi nueva Acme Card? La aplicación dice que la tarjeta todavía no está lista.",
        "¿Cuál es el tipo de interés de la Acme Card y hay una cuota anual?",
    ),
}

ANSWERS: dict[tuple[str, str, str], str] = {
    # order status
    ("order_status", "en", "good"): (
        "Your order {order} left our warehouse and is with the carrier. Deliveries take "
        "{days} business days from dispatch, so the {item} should arrive this week; the "
        "tracking link is in your shipping email [1]."
    ),
    ("order_status", "en", "ok"): (
        "Orders usually arrive within a few days. Please check your email for updates on "
        "your order."
    ),
    ("order_status", "de", "good"): (
        "Ihre Bestellung {order} hat unser Lager verlassen und ist beim Paketdienst. Die "
        "Lieferung dauert {days} Werktage ab Versand, der {item} sollte also diese Woche "
        "ankommen; den Link zur Sendungsverfolgung finden Sie in der Versand-E-Mail [1]."
    ),
    ("order_status", "de", "ok"): (
        "Bestellungen kommen normalerweise in ein paar Tagen an. Bitte schauen Sie in Ihre "
        "E-Mails, dort finden Sie Neuigkeiten zu Ihrer Bestellung."
    ),
    ("order_status", "fr", "good"): (
        "Votre commande {order} a quitté notre entrepôt et se trouve chez le transporteur. "
        "La livraison prend {days} jours ouvrés après l'expédition, le {item} devrait donc "
        "arriver cette semaine ; le lien de suivi est dans l'e-mail d'expédition [1]."
    ),
    ("order_status", "fr", "ok"): (
        "Les commandes arrivent en général en quelques jours. Merci de consulter vos e-mails "
        "pour les nouvelles de votre commande."
    ),
    ("order_status", "es", "good"): (
        "Su pedido {order} salió de nuestro almacén y está con el transportista. La entrega "
        "tarda {days} días hábiles desde el envío, así que el {item} debería llegar esta "
        "semana; el enlace de seguimiento está en el correo de envío [1]."
    ),
    ("order_status", "es", "ok"): (
        "Los pedidos suelen llegar en pocos días. Por favor revise su correo para ver las "
        "novedades de su pedido."
    ),
    # returns
    ("returns", "en", "good"): (
        "You can return the {item} within 30 days: open order {order} in your account, choose "
        "'Return an item' and print the free label. The refund reaches you {days} business "
        "days after we receive it [1]."
    ),
    ("returns", "en", "ok"): (
        "Returns are possible. Please send the item back to us and we will look at it."
    ),
    ("returns", "de", "good"): (
        "Sie können den {item} innerhalb von 30 Tagen zurückgeben: Öffnen Sie die Bestellung "
        "{order} in Ihrem Konto, wählen Sie 'Artikel zurücksenden' und drucken Sie das "
        "kostenlose Etikett. Die Erstattung erhalten Sie {days} Werktage nach Eingang [1]."
    ),
    ("returns", "de", "ok"): (
        "Rücksendungen sind möglich. Bitte schicken Sie den Artikel an uns zurück, wir sehen "
        "ihn uns dann an."
    ),
    ("returns", "fr", "good"): (
        "Vous pouvez retourner le {item} sous 30 jours : ouvrez la commande {order} dans votre "
        "compte, choisissez 'Retourner un article' et imprimez l'étiquette gratuite. Le "
        "remboursement arrive {days} jours ouvrés après réception [1]."
    ),
    ("returns", "fr", "ok"): (
        "Les retours sont possibles. Merci de nous renvoyer l'article et nous allons le regarder."
    ),
    ("returns", "es", "good"): (
        "Puede devolver el {item} en un plazo de 30 días: abra el pedido {order} en su cuenta, "
        "elija 'Devolver un artículo' e imprima la etiqueta gratuita. El reembolso llega "
        "{days} días hábiles después de recibirlo [1]."
    ),
    ("returns", "es", "ok"): (
        "Las devoluciones son posibles. Por favor envíenos el artículo y lo vamos a revisar."
    ),
    # password
    ("password", "en", "good"): (
        "Please check your spam folder first; reset emails come from no-reply@acme.example. "
        "If nothing arrives within {days} minutes, use 'Reset by SMS' on the login page and "
        "choose a new password there [1]."
    ),
    ("password", "en", "ok"): (
        "You can reset your password on the login page. If that does not work, try again later."
    ),
    ("password", "de", "good"): (
        "Bitte schauen Sie zuerst in Ihren Spam-Ordner; die E-Mails kommen von "
        "no-reply@acme.example. Wenn nach {days} Minuten nichts ankommt, wählen Sie auf der "
        "Anmeldeseite 'Per SMS zurücksetzen' und vergeben dort ein neues Passwort [1]."
    ),
    ("password", "de", "ok"): (
        "Sie können Ihr Passwort auf der Anmeldeseite zurücksetzen. Wenn das nicht klappt, "
        "versuchen Sie es bitte später noch einmal."
    ),
    ("password", "fr", "good"): (
        "Regardez d'abord dans vos courriers indésirables ; les e-mails viennent de "
        "no-reply@acme.example. Si rien n'arrive dans les {days} minutes, choisissez "
        "'Réinitialiser par SMS' sur la page de connexion et choisissez un nouveau mot de "
        "passe [1]."
    ),
    ("password", "fr", "ok"): (
        "Vous pouvez réinitialiser votre mot de passe sur la page de connexion. Si cela ne "
        "marche pas, essayez plus tard."
    ),
    ("password", "es", "good"): (
        "Revise primero su carpeta de spam; los correos vienen de no-reply@acme.example. Si "
        "no llega nada en {days} minutos, use 'Restablecer por SMS' en la página de inicio de "
        "sesión y elija allí una nueva contraseña [1]."
    ),
    ("password", "es", "ok"): (
        "Puede restablecer su contraseña en la página de inicio de sesión. Si no funciona, "
        "inténtelo más tarde."
    ),
    # invoice
    ("invoice", "en", "good"): (
        "Open order {order} in your account and click 'Invoice'; you can add your company "
        "address there before you download the PDF. A corrected invoice is issued within "
        "{days} business days [1]."
    ),
    ("invoice", "en", "ok"): (
        "Invoices are available in your account. Please contact us if something is wrong."
    ),
    ("invoice", "de", "good"): (
        "Öffnen Sie die Bestellung {order} in Ihrem Konto und klicken Sie auf 'Rechnung'; "
        "dort können Sie Ihre Firmenadresse ergänzen, bevor Sie das PDF herunterladen. Eine "
        "korrigierte Rechnung erhalten Sie innerhalb von {days} Werktagen [1]."
    ),
    ("invoice", "de", "ok"): (
        "Rechnungen finden Sie in Ihrem Konto. Bitte melden Sie sich bei uns, wenn etwas "
        "nicht stimmt."
    ),
    ("invoice", "fr", "good"): (
        "Ouvrez la commande {order} dans votre compte et cliquez sur 'Facture' ; vous pouvez "
        "y ajouter l'adresse de votre entreprise avant de télécharger le PDF. Une facture "
        "corrigée est émise sous {days} jours ouvrés [1]."
    ),
    ("invoice", "fr", "ok"): (
        "Les factures sont disponibles dans votre compte. Contactez-nous si quelque chose ne "
        "va pas."
    ),
    ("invoice", "es", "good"): (
        "Abra el pedido {order} en su cuenta y pulse 'Factura'; allí puede añadir la "
        "dirección de su empresa antes de descargar el PDF. Una factura corregida se emite en "
        "{days} días hábiles [1]."
    ),
    ("invoice", "es", "ok"): (
        "Las facturas están disponibles en su cuenta. Contáctenos si algo no está bien."
    ),
    # the new Acme Card
    ("acme_card", "en", "good"): (
        "A new Acme Card is ready {days} hours after approval. In the app, open 'Cards', tap "
        "'Activate' and confirm with your PIN; there is no yearly fee and the rate is shown "
        "in your card agreement [1]."
    ),
    ("acme_card", "en", "ok"): (
        "The Acme Card can be managed in the app. Please have a look at the card section."
    ),
    ("acme_card", "de", "good"): (
        "Eine neue Acme Card ist {days} Stunden nach der Genehmigung bereit. Öffnen Sie in "
        "der App 'Karten', tippen Sie auf 'Aktivieren' und bestätigen Sie mit Ihrer PIN; es "
        "gibt keine Jahresgebühr und der Zinssatz steht in Ihrem Kartenvertrag [1]."
    ),
    ("acme_card", "de", "ok"): (
        "Die Acme Card können Sie in der App verwalten. Bitte schauen Sie im Bereich Karten nach."
    ),
    ("acme_card", "fr", "good"): (
        "Une nouvelle Acme Card est prête {days} heures après l'accord. Dans l'application, "
        "ouvrez 'Cartes', touchez 'Activer' et confirmez avec votre code PIN ; il n'y a pas "
        "de frais annuels et le taux est indiqué dans votre contrat de carte [1]."
    ),
    ("acme_card", "fr", "ok"): (
        "La Acme Card se gère dans l'application. Merci de regarder dans la partie des cartes."
    ),
    ("acme_card", "es", "good"): (
        "Una nueva Acme Card está lista {days} horas después de la aprobación. En la "
        "aplicación, abra 'Tarjetas', pulse 'Activar' y confirme con su PIN; no hay cuota "
        "anual y el tipo de interés aparece en su contrato de tarjeta [1]."
    ),
    ("acme_card", "es", "ok"): (
        "La Acme Card se gestiona en la aplicación. Por favor mire en la sección de tarjetas."
    ),
}

# An unhelpful answer does not depend on the topic.
BAD_ANSWERS: dict[str, str] = {
    "en": "I am sorry, I do not have information about that. Is there anything else?",
    "de": "Es tut mir leid, dazu habe ich keine Informationen. Kann ich sonst noch helfen?",
    "fr": "Je suis désolé, je n'ai pas d'information à ce sujet. Puis-je vous aider autrement ?",
    "es": "Lo siento, no tengo información sobre eso. ¿Puedo ayudarle con otra cosa?",
}

DOCUMENTS: dict[str, str] = {
    "order_status": "KB-101 Shipping: orders leave the warehouse within one day; delivery "
    "takes 2-4 business days from dispatch. The tracking link is in the shipping email.",
    "returns": "KB-204 Returns: items can be returned within 30 days via 'Return an item' "
    "with a free label. Refunds are paid 3-5 business days after the return arrives.",
    "password": "KB-310 Login: reset emails come from no-reply@acme.example and may land in "
    "spam. If none arrives within 10 minutes, 'Reset by SMS' sets a new password.",
    "invoice": "KB-415 Invoices: the 'Invoice' button of an order downloads a PDF; a company "
    "address can be added before download. Corrections take up to 5 business days.",
    "acme_card": "KB-520 Acme Card: a card is ready 24 hours after approval and is activated "
    "in the app under 'Cards' with the PIN. No yearly fee; the rate is in the agreement.",
}

ITEMS = ("Acme Kettle", "Acme Router X2", "Acme Desk Lamp", "Acme Headphones", "Acme Blender")
